-- Revert trader:execution/pre_trade_check
BEGIN;
DROP FUNCTION tr_orders_to_cancel();
DROP FUNCTION tr_pre_trade_check(text[]);
DROP FUNCTION tr_check_order(text, jsonb);
DROP FUNCTION tr_risk_check(text, text, numeric, numeric, boolean);
DROP FUNCTION tr_effective_risk(text);
COMMIT;
