-- Deploy trader:tr_pre_trade_check
-- What the worker asks before every submission: is this order valid, and does the
-- Risk Manager allow it now? The answer is 'OK' or a stable reason code with a
-- detail for people; never an exception, since bad orders are expected input.
BEGIN;

-- Validation of an order_spec (INVALID_ORDER_SPEC, the detail naming the field).
CREATE FUNCTION tr_validate_order(p_symbol text, p_spec jsonb, OUT reason text, OUT detail text)
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_key text;
    v_num numeric;
    v_side text;
    v_type text;
BEGIN
    reason := 'INVALID_ORDER_SPEC';
    IF coalesce(btrim(p_symbol), '') = '' THEN
        detail := 'symbol: the decision names no symbol'; RETURN;
    END IF;
    IF jsonb_typeof(p_spec) IS DISTINCT FROM 'object' THEN
        detail := 'order_spec: not a JSON object'; RETURN;
    END IF;
    v_side := p_spec->>'side';
    IF jsonb_typeof(p_spec->'side') IS DISTINCT FROM 'string' OR v_side NOT IN ('buy', 'sell') THEN
        detail := format('side: must be buy or sell, got %s', coalesce((p_spec->'side')::text, 'nothing')); RETURN;
    END IF;
    v_type := coalesce(p_spec->>'order_type', 'market');
    IF coalesce(jsonb_typeof(p_spec->'order_type'), 'string') <> 'string' OR v_type NOT IN ('market', 'limit') THEN
        detail := format('order_type: must be market or limit, got %s', p_spec->'order_type'); RETURN;
    END IF;
    IF coalesce(jsonb_typeof(p_spec->'tif'), 'string') <> 'string' OR coalesce(p_spec->>'tif', 'ioc') NOT IN ('ioc', 'gtc', 'day') THEN
        detail := format('tif: must be ioc, gtc or day, got %s', p_spec->'tif'); RETURN;
    END IF;
    IF v_type = 'limit' AND coalesce(jsonb_typeof(p_spec->'limit_px'), 'null') = 'null' THEN
        detail := 'limit_px: a limit order needs a limit price'; RETURN;
    END IF;
    IF coalesce(jsonb_typeof(p_spec->'qty'), 'null') = 'null' THEN
        detail := 'qty: missing'; RETURN;
    END IF;
    FOREACH v_key IN ARRAY ARRAY['qty', 'limit_px', 'ref_px', 'stop_loss_px', 'take_profit_px'] LOOP
        CONTINUE WHEN coalesce(jsonb_typeof(p_spec->v_key), 'null') = 'null';
        v_num := tr_json_numeric(p_spec->v_key);
        IF v_num IS NULL OR v_num <= 0 OR v_num >= 1e12 THEN
            detail := format('%s: must be a positive finite number below 10^12, got %s', v_key, p_spec->v_key); RETURN;
        END IF;
        IF tr_decimal_places(v_num) > 8 THEN
            detail := format('%s: more than 8 decimal places (%s)', v_key, v_num); RETURN;
        END IF;
    END LOOP;
    IF coalesce(jsonb_typeof(p_spec->'reduce_only'), 'boolean') NOT IN ('boolean', 'null') THEN
        detail := format('reduce_only: must be true or false, got %s', p_spec->'reduce_only'); RETURN;
    END IF;
    IF coalesce(jsonb_typeof(p_spec->'venue'), 'string') NOT IN ('string', 'null') OR btrim(p_spec->>'venue') = '' THEN
        detail := format('venue: must be a venue name, got %s', p_spec->'venue'); RETURN;
    END IF;
    -- A long's stop sits below its take-profit, a short's above.
    IF (tr_json_numeric(p_spec->'stop_loss_px') - tr_json_numeric(p_spec->'take_profit_px'))
       * (CASE v_side WHEN 'buy' THEN 1 ELSE -1 END) >= 0 THEN
        detail := format('stop_loss_px: %s is on the wrong side of take_profit_px %s for a %s',
                         p_spec->'stop_loss_px', p_spec->'take_profit_px', v_side);
        RETURN;
    END IF;
    reason := NULL;
END
$$;

COMMENT ON FUNCTION tr_validate_order(text, jsonb) IS
    'NULL when the order_spec is valid, else INVALID_ORDER_SPEC and a detail naming the field. Never raises.';

-- The effective risk for a symbol: the stricter of its own scope and the global one.
CREATE FUNCTION tr_effective_risk(p_symbol text,
    OUT trading_state text, OUT max_position_qty numeric, OUT max_order_qty numeric, OUT max_order_notional numeric)
LANGUAGE sql STABLE
AS $$
    SELECT coalesce((array_agg(r.trading_state ORDER BY CASE r.trading_state WHEN 'halted' THEN 0 WHEN 'reducing' THEN 1 ELSE 2 END))[1], 'active'),
           min(r.max_position_qty), min(r.max_order_qty), min(r.max_order_notional)
      FROM public.tr_risk_state r
     WHERE r.scope IN ('global', p_symbol)
$$;

COMMENT ON FUNCTION tr_effective_risk(text) IS
    'Trading state and limits for a symbol: the stricter of its own scope and the global one; active and unlimited when neither exists.';

CREATE FUNCTION tr_check_order(p_symbol text, p_spec jsonb, OUT reason text, OUT detail text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_risk     record;
    v_dir      integer;
    v_qty      numeric;
    v_pos      numeric;
    v_after    numeric;
    v_px       numeric;
    v_increase boolean;
BEGIN
    SELECT * INTO reason, detail FROM tr_validate_order(p_symbol, p_spec);
    IF reason IS NOT NULL THEN
        RETURN;
    END IF;
    v_risk := tr_effective_risk(p_symbol);
    IF v_risk.trading_state = 'halted' THEN
        reason := 'TRADING_HALTED';
        detail := format('trading is halted for %s', CASE WHEN EXISTS (SELECT FROM tr_risk_state WHERE scope = 'global' AND trading_state = 'halted') THEN 'every symbol' ELSE p_symbol END);
        RETURN;
    END IF;

    v_dir := CASE p_spec->>'side' WHEN 'buy' THEN 1 ELSE -1 END;
    v_qty := tr_json_numeric(p_spec->'qty');
    v_pos := coalesce((SELECT quantity FROM tr_positions WHERE symbol = p_symbol), 0);
    v_after := v_pos + v_dir * v_qty;
    v_increase := tr_increases_position(v_pos, v_dir * v_qty);
    IF v_increase AND (v_risk.trading_state = 'reducing' OR coalesce((p_spec->>'reduce_only')::boolean, false)) THEN
        reason := 'REDUCE_ONLY_VIOLATION';
        detail := format('%s %s would %s the position of %s (%s)', p_spec->>'side', v_qty,
                         CASE WHEN v_pos = 0 OR sign(v_pos) = v_dir THEN 'increase' ELSE 'flip' END, v_pos,
                         CASE WHEN v_risk.trading_state = 'reducing' THEN 'trading state is reducing' ELSE 'the order is reduce_only' END);
        RETURN;
    END IF;
    IF v_qty > v_risk.max_order_qty THEN
        reason := 'QTY_EXCEEDS_MAX';
        detail := format('qty %s is above max_order_qty %s', v_qty, v_risk.max_order_qty);
        RETURN;
    END IF;
    IF v_risk.max_order_notional IS NOT NULL THEN
        IF p_spec->>'order_type' = 'limit' THEN
            v_px := tr_json_numeric(p_spec->'limit_px');
        ELSE
            SELECT tr_touch_price(q, p_spec->>'side') INTO v_px FROM tr_quotes q WHERE q.symbol = p_symbol;
        END IF;
        IF v_px IS NULL THEN
            reason := 'NO_MARKET_DATA';
            detail := format('no quote for %s to value the order against max_order_notional %s', p_symbol, v_risk.max_order_notional);
            RETURN;
        END IF;
        IF v_qty * v_px > v_risk.max_order_notional THEN
            reason := 'NOTIONAL_EXCEEDS_MAX';
            detail := format('notional %s (%s x %s) is above max_order_notional %s', v_qty * v_px, v_qty, v_px, v_risk.max_order_notional);
            RETURN;
        END IF;
    END IF;
    -- A position already past the limit may still be reduced, but not flipped past it.
    IF abs(v_after) > v_risk.max_position_qty AND (abs(v_after) > abs(v_pos) OR sign(v_after) <> sign(v_pos)) THEN
        reason := 'POSITION_EXCEEDS_MAX';
        detail := format('the position would be %s, beyond max_position_qty %s', v_after, v_risk.max_position_qty);
        RETURN;
    END IF;
    reason := 'OK';
END
$$;

COMMENT ON FUNCTION tr_check_order(text, jsonb) IS
    'Pre-trade check of an order for a symbol: OK, or INVALID_ORDER_SPEC, TRADING_HALTED, REDUCE_ONLY_VIOLATION, QTY_EXCEEDS_MAX, NO_MARKET_DATA, NOTIONAL_EXCEEDS_MAX, POSITION_EXCEEDS_MAX, with a detail. Never raises.';

CREATE FUNCTION tr_pre_trade_check(p_order_ids text[])
RETURNS TABLE (order_id text, reason text, detail text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT o.id, coalesce(c.reason, 'UNKNOWN_ORDER'), CASE WHEN i.id IS NULL THEN 'no such work item' ELSE c.detail END
          FROM unnest(p_order_ids) AS o(id)
          LEFT JOIN tr_inbox i ON i.id = o.id
          LEFT JOIN LATERAL tr_check_order(i.symbol, i.order_spec) c ON i.id IS NOT NULL;
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

REVOKE EXECUTE ON FUNCTION tr_validate_order(text, jsonb), tr_effective_risk(text), tr_check_order(text, jsonb),
                           tr_pre_trade_check(text[]), tr_orders_to_cancel() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_pre_trade_check(text[]), tr_orders_to_cancel() TO tr_worker;

COMMIT;
