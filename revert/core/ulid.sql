-- Revert trader:core/ulid
BEGIN;
DROP FUNCTION tr_ulid(timestamptz);
COMMIT;
