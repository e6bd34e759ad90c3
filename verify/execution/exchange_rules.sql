-- Verify trader:execution/exchange_rules on pg
BEGIN;

SELECT order_id, fill_id, venue, symbol, ts, cost, currency FROM tr_unconverted_fees WHERE false;
SELECT status, value, detail FROM tr_health_fees();

DO $$
BEGIN
    IF (SELECT count(*) FROM tr_reason_codes
         WHERE code IN ('BELOW_MIN_QTY', 'BELOW_MIN_NOTIONAL', 'ABOVE_MAX_QTY') AND applies = 'order' AND stage = 'venue') <> 3 THEN
        RAISE EXCEPTION 'the exchange rules'' reason codes are missing';
    END IF;
END
$$;

ROLLBACK;
