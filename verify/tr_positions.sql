-- Verify trader:tr_positions
BEGIN;
SELECT id, symbol, quantity, avg_price, unrealized_pnl, realized_pnl, created_at, updated_at,
       avg_price_exact, realized_pnl_exact
  FROM tr_positions WHERE false;
ROLLBACK;
