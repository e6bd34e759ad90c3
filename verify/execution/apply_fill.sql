-- Verify trader:execution/apply_fill
BEGIN;

SELECT symbol, order_id, first_at FROM tr_cycle_orders WHERE false;
SELECT 1 / ((tr_apply_fill('VERIFY-SYMBOL', 'buy', 2, 10, 0.01)).realized_pnl = -0.01)::int;
ROLLBACK;
