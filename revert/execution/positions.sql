-- Revert trader:execution/positions
BEGIN;
DROP FUNCTION tr_increases_position(numeric, numeric);
DROP TABLE tr_positions;
COMMIT;
