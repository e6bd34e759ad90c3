-- Verify trader:intake/risk_state
BEGIN;
SELECT scope, trading_state, max_position_qty, max_order_qty, max_order_notional, strand_id, updated_at FROM tr_risk_state WHERE false;
SELECT 1 / ((tr_parse_risk_update('{"scope": "global", "trading_state": "frozen"}')).reason = 'INVALID_TRADING_STATE')::int;
SELECT 1 / count(*) FROM pg_catalog.pg_trigger WHERE tgname = 'tr_apply_risk_update';
ROLLBACK;
