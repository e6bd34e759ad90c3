-- Deploy trader:execution/pre_trade_check
-- Reworked after @v0.2.1: an order for a symbol whose asset's balance at the exchange
-- drifted from the Trader's fills (an open, unacknowledged balance_drift of
-- execution/reconciliation) is refused BALANCE_DRIFT, so that the Trader does not
-- trade on books it cannot trust until an operator has looked.
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
    -- Last, as tr_reason_codes lists it: the exchange's balance drifted from the Trader's
    -- fills and no operator has looked (execution/reconciliation). The index on the
    -- open, unacknowledged drifts' symbols keeps this a lookup.
    IF reason IS NULL THEN
        SELECT 'BALANCE_DRIFT',
               format('the balance of %s at %s drifted: exchange %s, Trader %s (drift %s beyond reconcile.balance_tolerance); find the cause, then trader venues acknowledge %s --why ...',
                      d.subject, d.venue, d.exchange_figure, d.trader_figure, d.drift, d.id)
          INTO reason, detail
          FROM tr_venue_differences d
         WHERE d.symbols @> ARRAY[p_symbol] AND d.kind = 'balance_drift' AND d.cleared_at IS NULL AND d.acknowledged_at IS NULL
         ORDER BY d.first_seen_at
         LIMIT 1;
    END IF;
    reason := coalesce(reason, 'OK');
END
$$;

COMMENT ON FUNCTION tr_risk_check(text, text, numeric, numeric, boolean) IS
    'Pre-trade risk check of a typed order: OK, or TRADING_HALTED, REDUCE_ONLY_VIOLATION, QTY_EXCEEDS_MAX, NO_MARKET_DATA, NOTIONAL_EXCEEDS_MAX, POSITION_EXCEEDS_MAX, BALANCE_DRIFT, with a detail. Never raises.';

COMMIT;
