-- Revert trader:execution/exchange_rules from pg
-- Fills marked unconverted keep their mark in fee_charged: it is the venue's record.
BEGIN;

DROP FUNCTION tr_health_fees();
DROP VIEW tr_unconverted_fees;
DELETE FROM tr_reason_codes WHERE code IN ('BELOW_MIN_QTY', 'BELOW_MIN_NOTIONAL', 'ABOVE_MAX_QTY');

COMMIT;
