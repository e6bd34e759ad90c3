-- Verify trader:execution/pre_trade_check
-- An open, unacknowledged balance drift refuses its symbol BALANCE_DRIFT, and only it.
BEGIN;
SELECT 1 / ((tr_check_order('X', '{"side": "buy", "qty": 1}')).reason IS NOT NULL)::int;
SELECT 1 / has_function_privilege('tr_worker', 'tr_pre_trade_check(text[])', 'execute')::int;
INSERT INTO tr_venue_differences (venue, kind, subject, symbols, exchange_figure, trader_figure, accepted_offset, drift, first_seen_at, last_seen_at)
VALUES ('verify-venue', 'balance_drift', 'VER', ARRAY['VER-USD'], 2, 1, 0, 1, now(), now());
SELECT 1 / ((tr_check_order('VER-USD', '{"side": "buy", "qty": 1}')).reason = 'BALANCE_DRIFT')::int;
SELECT 1 / ((tr_check_order('OTHER-USD', '{"side": "buy", "qty": 1}')).reason = 'OK')::int;
ROLLBACK;
