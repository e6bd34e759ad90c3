-- Verify trader:execution/reconciliation on pg
-- An order the exchange shows and the Trader never placed becomes a difference, a
-- balance off the Trader's fills becomes a drift, an acknowledgement is recorded, and
-- bad entries are skipped without raising.
BEGIN;

SELECT 1 / (r->>'unknown_open_orders' = '1' AND r->>'balance_drifts' = '1' AND r->>'skipped' = '2')::int
  FROM tr_reconcile_venue('verify-venue',
        '[{"venue_order_id": "V1", "order_id": null, "symbol": "VER/USDT", "side": "buy", "amount": "1", "filled": "0"}, 7]',
        '[{"asset": "VER", "symbols": ["VER-USDT"], "exchange_qty": "5", "step": "0.001"}, {"asset": "VER"}]') r;
SELECT 1 / count(*) FROM tr_open_venue_differences
 WHERE venue = 'verify-venue' AND kind = 'balance_drift' AND exchange_figure = 5 AND trader_figure = 0 AND NOT acknowledged;
SELECT tr_acknowledge_difference((SELECT id FROM tr_venue_differences WHERE venue = 'verify-venue' AND kind = 'balance_drift'), 'verify');
SELECT 1 / count(*) FROM tr_operator_actions WHERE action = 'acknowledge_difference' AND reason = 'verify';
SELECT 1 / (tr_accepted_offset('verify-venue', 'VER') = 5)::int;
SELECT status, value, detail FROM tr_health_venue_differences();
SELECT 1 / count(*) FROM tr_reason_codes WHERE code = 'BALANCE_DRIFT' AND stage = 'pre-trade';
SELECT 1 / (tr_setting('reconcile.interval')::interval = '5 minutes' AND tr_setting('reconcile.balance_tolerance')::numeric = 0.001)::int;
SELECT 1 / has_function_privilege('tr_worker', 'tr_reconcile_venue(text, jsonb, jsonb, timestamptz)', 'execute')::int;

ROLLBACK;
