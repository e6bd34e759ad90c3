-- Deploy trader:execution/positions
BEGIN;

CREATE TABLE tr_positions (
    id                 text PRIMARY KEY DEFAULT tr_ulid(),
    symbol             text NOT NULL,
    quantity           decimal(20,8) NOT NULL,
    avg_price          decimal(20,8) NOT NULL,
    unrealized_pnl     decimal(20,8) NOT NULL,
    realized_pnl       decimal(20,8) NOT NULL,
    created_at         timestamptz DEFAULT now(),
    updated_at         timestamptz DEFAULT now(),
    avg_price_exact    numeric NOT NULL DEFAULT 0,
    realized_pnl_exact numeric NOT NULL DEFAULT 0,
    mark_price         numeric,
    marked_at          timestamptz,
    cycle              jsonb,
    CONSTRAINT tr_positions_symbol_key UNIQUE (symbol)
);

COMMENT ON TABLE tr_positions IS
    'Netted position per symbol: signed quantity (+ long, - short), average price, realized and unrealized PnL.';
COMMENT ON COLUMN tr_positions.quantity IS 'Signed: positive long, negative short. Exact: fills carry at most 8 decimal places.';
COMMENT ON COLUMN tr_positions.avg_price IS 'avg_price_exact rounded to 8 places, for display.';
COMMENT ON COLUMN tr_positions.realized_pnl IS 'realized_pnl_exact rounded to 8 places, for display; cumulative over the symbol''s life, fees subtracted.';
COMMENT ON COLUMN tr_positions.avg_price_exact IS
    'Addition: the unrounded average price that later fills compute with, so that rounding never compounds.';
COMMENT ON COLUMN tr_positions.realized_pnl_exact IS
    'Addition: the unrounded cumulative realized PnL, so that rounding never compounds.';
COMMENT ON COLUMN tr_positions.mark_price IS
    'Addition: the price unrealized_pnl is marked at: the latest quote''s mark, else the latest fill''s price.';
COMMENT ON COLUMN tr_positions.marked_at IS 'Addition: the time of the quote or fill mark_price comes from.';
COMMENT ON COLUMN tr_positions.cycle IS
    'Addition: the open position cycle (from flat or a flip): strand_id, side, opened_at, entry_qty, entry_value, exit_qty, exit_value, fees, realized (its orders are in tr_cycle_orders). NULL when flat.';
COMMENT ON CONSTRAINT tr_positions_symbol_key ON tr_positions IS 'Addition: netting keeps one position per symbol.';

-- The one rule for "does this order increase the position": it opens from flat, adds
-- on the position's side, or flips past it. Reduce-only checks and the risk curator ask it.
CREATE FUNCTION tr_increases_position(p_position numeric, p_signed_qty numeric)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT p_position = 0 OR sign(p_position) = sign(p_signed_qty) OR abs(p_signed_qty) > abs(p_position)
$$;

COMMENT ON FUNCTION tr_increases_position(numeric, numeric) IS
    'Whether a signed order quantity increases a signed position: opens from flat, adds on its side, or flips past it.';

COMMIT;
