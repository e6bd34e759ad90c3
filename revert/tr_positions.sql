-- Revert trader:tr_positions
BEGIN;
DROP FUNCTION tr_increases_position(numeric, numeric);
DROP TABLE tr_positions;
COMMIT;
