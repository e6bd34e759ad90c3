-- Revert trader:execution/pre_trade_check
-- Back to the checks of @v0.2.1, without BALANCE_DRIFT.
BEGIN;

-- The risk checks of a typed order, in the order tr_reason_codes (and docs/orders.md) lists them.
CREATE OR REPLACE FUNCTION tr_risk_check(p_symbol text, p_side text, p_qty numeric, p_limit_px numeric, p_reduce_only boolean,
                              OUT reason text, OUT detail text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_risk  record := tr_effective_risk(p_symbol);
    v_dir   integer := CASE p_side WHEN 'buy' THEN 1 ELSE -1 END;
    v_pos   numeric := coalesce((SELECT quantity FROM tr_positions WHERE symbol = p_symbol), 0);
    v_after numeric := v_pos + v_dir * p_qty;
    v_px    numeric := p_limit_px;
BEGIN
    IF v_risk.trading_state = 'halted' THEN
        reason := 'TRADING_HALTED';
        detail := format('trading is halted for %s', CASE WHEN EXISTS (SELECT FROM tr_risk_state WHERE scope = 'global' AND trading_state = 'halted') THEN 'every symbol' ELSE p_symbol END);
    ELSIF tr_increases_position(v_pos, v_dir * p_qty) AND (v_risk.trading_state = 'reducing' OR p_reduce_only) THEN
        reason := 'REDUCE_ONLY_VIOLATION';
        detail := format('%s %s would %s the position of %s (%s)', p_side, p_qty,
                         CASE WHEN v_pos = 0 OR sign(v_pos) = v_dir THEN 'increase' ELSE 'flip' END, v_pos,
                         CASE WHEN v_risk.trading_state = 'reducing' THEN 'trading state is reducing' ELSE 'the order is reduce_only' END);
    ELSIF p_qty > v_risk.max_order_qty THEN
        reason := 'QTY_EXCEEDS_MAX';
        detail := format('qty %s is above max_order_qty %s', p_qty, v_risk.max_order_qty);
    ELSIF v_risk.max_order_notional IS NOT NULL THEN
        v_px := coalesce(v_px, (SELECT tr_touch_price(q, p_side) FROM tr_quotes q WHERE q.symbol = p_symbol));
        IF v_px IS NULL THEN
            reason := 'NO_MARKET_DATA';
            detail := format('no quote for %s to value the order against max_order_notional %s', p_symbol, v_risk.max_order_notional);
        ELSIF p_qty * v_px > v_risk.max_order_notional THEN
            reason := 'NOTIONAL_EXCEEDS_MAX';
            detail := format('notional %s (%s x %s) is above max_order_notional %s', p_qty * v_px, p_qty, v_px, v_risk.max_order_notional);
        END IF;
    END IF;
    -- A position already past the limit may still be reduced, but not flipped past it.
    IF reason IS NULL AND abs(v_after) > v_risk.max_position_qty AND (abs(v_after) > abs(v_pos) OR sign(v_after) <> sign(v_pos)) THEN
        reason := 'POSITION_EXCEEDS_MAX';
        detail := format('the position would be %s, beyond max_position_qty %s', v_after, v_risk.max_position_qty);
    END IF;
    reason := coalesce(reason, 'OK');
END
$$;

COMMENT ON FUNCTION tr_risk_check(text, text, numeric, numeric, boolean) IS
    'Pre-trade risk check of a typed order: OK, or TRADING_HALTED, REDUCE_ONLY_VIOLATION, QTY_EXCEEDS_MAX, NO_MARKET_DATA, NOTIONAL_EXCEEDS_MAX, POSITION_EXCEEDS_MAX, with a detail. Never raises.';

COMMIT;
