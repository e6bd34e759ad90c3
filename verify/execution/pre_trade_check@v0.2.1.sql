-- Verify trader:execution/pre_trade_check
BEGIN;
SELECT 1 / ((tr_check_order('X', '{"side": "buy", "qty": 1}')).reason IS NOT NULL)::int;
SELECT 1 / has_function_privilege('tr_worker', 'tr_pre_trade_check(text[])', 'execute')::int;
ROLLBACK;
