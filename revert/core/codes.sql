-- Revert trader:core/codes
BEGIN;
DROP FUNCTION tr_status_is_final(tr_order_status);
DROP TABLE tr_reason_codes;
DROP TABLE tr_statuses;
DROP TYPE tr_order_status;
COMMIT;
