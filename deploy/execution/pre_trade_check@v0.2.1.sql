-- Deploy trader:execution/pre_trade_check
-- What the worker asks before every submission: is this order valid, and does the
-- Risk Manager allow it now? The answer is 'OK' or a stable reason code with a
-- detail for people; never an exception, since bad orders are expected input.
BEGIN;

-- The effective risk for a symbol: the stricter of its own scope and the global one.
CREATE FUNCTION tr_effective_risk(p_symbol text,
    OUT trading_state text, OUT max_position_qty numeric, OUT max_order_qty numeric, OUT max_order_notional numeric)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
        SELECT coalesce((array_agg(r.trading_state ORDER BY CASE r.trading_state WHEN 'halted' THEN 0 WHEN 'reducing' THEN 1 ELSE 2 END))[1], 'active'),
               min(r.max_position_qty), min(r.max_order_qty), min(r.max_order_notional)
          INTO trading_state, max_position_qty, max_order_qty, max_order_notional
          FROM public.tr_risk_state r
         WHERE r.scope IN ('global', p_symbol);
END
$$;

COMMENT ON FUNCTION tr_effective_risk(text) IS
    'Trading state and limits for a symbol: the stricter of its own scope and the global one; active and unlimited when neither exists.';

-- The risk checks of a typed order, in the order tr_reason_codes (and docs/orders.md) lists them.
CREATE FUNCTION tr_risk_check(p_symbol text, p_side text, p_qty numeric, p_limit_px numeric, p_reduce_only boolean,
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

-- One spec checked by hand: the intake's parse, then the risk checks.
CREATE FUNCTION tr_check_order(p_symbol text, p_spec jsonb, OUT reason text, OUT detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT coalesce(p.reason, c.reason), coalesce(p.detail, c.detail)
      FROM tr_parse_order(p_symbol, p_spec) p
      LEFT JOIN LATERAL tr_risk_check(p_symbol, p.side, p.qty, p.limit_px, p.reduce_only) c ON p.reason IS NULL
$$;

COMMENT ON FUNCTION tr_check_order(text, jsonb) IS
    'Pre-trade check of an order_spec for a symbol, as the inbox would make it: INVALID_ORDER_SPEC from the parse, else tr_risk_check. Never raises.';

CREATE FUNCTION tr_pre_trade_check(p_order_ids text[])
RETURNS TABLE (order_id text, reason text, detail text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT o.id, coalesce(i.reason, c.reason, 'UNKNOWN_ORDER'),
               CASE WHEN i.id IS NULL THEN 'no such work item' ELSE coalesce(i.detail, c.detail) END
          FROM unnest(p_order_ids) AS o(id)
          LEFT JOIN tr_inbox i ON i.id = o.id
          LEFT JOIN LATERAL tr_risk_check(i.symbol, i.side, i.qty, i.limit_px, i.reduce_only) c ON i.id IS NOT NULL AND i.reason IS NULL;
END
$$;

COMMENT ON FUNCTION tr_pre_trade_check(text[]) IS
    'The pre-trade check of each work item named, as the worker calls it for a batch: (order_id, reason, detail), reason OK when the order may be sent.';

-- A halt arriving while orders rest at a venue: the worker cancels these.
CREATE FUNCTION tr_orders_to_cancel()
RETURNS TABLE (order_id text, symbol text, reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT i.id, i.symbol, 'TRADING_HALTED'
          FROM tr_inbox i
         WHERE i.state = 'working'
           AND (tr_effective_risk(i.symbol)).trading_state = 'halted'
         ORDER BY i.created_at;
END
$$;

COMMENT ON FUNCTION tr_orders_to_cancel() IS 'Orders working at a venue whose symbol is now halted: the worker cancels and reports them.';

REVOKE EXECUTE ON FUNCTION tr_risk_check(text, text, numeric, numeric, boolean), tr_effective_risk(text), tr_check_order(text, jsonb),
                           tr_pre_trade_check(text[]), tr_orders_to_cancel() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_pre_trade_check(text[]), tr_orders_to_cancel() TO tr_worker;

COMMIT;
