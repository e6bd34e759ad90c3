-- Revert trader:tr_positions
BEGIN;
DROP TABLE tr_positions;
COMMIT;
