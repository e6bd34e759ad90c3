-- Verify trader:execution/positions
BEGIN;
SELECT id, symbol, quantity, avg_price, unrealized_pnl, realized_pnl, created_at, updated_at,
       avg_price_exact, realized_pnl_exact, mark_price, marked_at, cycle
  FROM tr_positions WHERE false;
SELECT 1 / (tr_increases_position(-2, 3) AND NOT tr_increases_position(-2, 1))::int;
ROLLBACK;
