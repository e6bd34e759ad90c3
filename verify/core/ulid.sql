-- Verify trader:core/ulid
BEGIN;
SELECT 1 / (tr_ulid() ~ '^[0-9A-HJKMNP-TV-Z]{26}$')::int;
ROLLBACK;
