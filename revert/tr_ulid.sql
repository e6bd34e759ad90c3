-- Revert trader:tr_ulid
BEGIN;
DROP FUNCTION tr_ulid(timestamptz);
COMMIT;
