-- Deploy trader:execution/monitors
-- Exit monitoring. An entry that fills with stop_loss_px and/or take_profit_px opens
-- a 'monitoring' strand sized to what filled; each applied quote for the symbol
-- evaluates the active monitors, and a crossed one puts a reduce-only exit order in
-- the inbox, exactly once: monitors change only under the position's row lock,
-- which every quote and every fill of the symbol takes first.
BEGIN;

INSERT INTO tr_settings (key, value, description) VALUES
    ('monitor.max_age', 'off', 'Active monitors older than this interval are expired by the monitor job; ''off'' keeps them until their position closes.');

-- Opens or resizes the monitor of an entry when its execution strand changes.
CREATE FUNCTION tr_sync_monitor()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_order   tr_inbox;
    v_filled  numeric;
    v_sl      numeric;
    v_tp      numeric;
    v_dir     integer;
    v_pos     numeric;
    v_monitor tr_strand;
BEGIN
    -- The order as the intake typed it, never its JSON again.
    SELECT * INTO v_order FROM tr_inbox WHERE id = NEW.decision_id;
    v_filled := v_order.filled_qty;
    v_sl := v_order.stop_loss_px;
    v_tp := v_order.take_profit_px;
    v_dir := CASE v_order.side WHEN 'buy' THEN 1 WHEN 'sell' THEN -1 END;
    IF coalesce(v_filled, 0) <= 0 OR v_dir IS NULL OR (v_sl IS NULL AND v_tp IS NULL) OR v_order.source = 'monitor' THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v_monitor FROM tr_strand WHERE kind = 'monitoring' AND decision_id = NEW.decision_id FOR UPDATE;
    IF v_monitor.id IS NULL THEN
        -- Only an entry is protected: the order must have left a position on its own side.
        SELECT quantity INTO v_pos FROM tr_positions WHERE symbol = NEW.symbol;
        IF coalesce(sign(v_pos), 0) <> v_dir THEN
            RETURN NULL;
        END IF;
        INSERT INTO tr_strand (kind, lifecycle_id, parent_id, symbol, timeframe, session_bucket, regime, decision_id,
                               route_hint, monitoring_state, tags)
        VALUES ('monitoring', NEW.lifecycle_id, NEW.id, NEW.symbol, NEW.timeframe, NEW.session_bucket, NEW.regime,
                NEW.decision_id, NEW.route_hint,
                jsonb_build_object('status', 'active', 'protects', NEW.decision_id,
                                   'side', CASE v_dir WHEN 1 THEN 'long' ELSE 'short' END,
                                   'entry_px', v_order.avg_px, 'qty', v_filled,
                                   'stop_loss_px', v_sl, 'take_profit_px', v_tp, 'opened_at', clock_timestamp()),
                '{}');
    ELSIF v_monitor.monitoring_state->>'status' = 'active' THEN
        UPDATE tr_strand
           SET monitoring_state = monitoring_state || jsonb_build_object('qty', v_filled, 'entry_px', v_order.avg_px),
               updated_at = clock_timestamp()
         WHERE id = v_monitor.id;
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION tr_sync_monitor() IS
    'Trigger on execution strands: an entry with stop_loss_px or take_profit_px gets an active monitor sized to its filled quantity.';

CREATE TRIGGER tr_sync_monitor
    AFTER INSERT OR UPDATE OF exec_metrics ON tr_strand
    FOR EACH ROW
    WHEN (NEW.kind = 'execution' AND (NEW.order_spec ? 'stop_loss_px' OR NEW.order_spec ? 'take_profit_px'))
    EXECUTE FUNCTION tr_sync_monitor();

-- Evaluates a symbol's active monitors against its current quote. Called by the
-- market-data trigger after the quote is applied (and so after the position lock).
CREATE FUNCTION tr_evaluate_monitors(p_symbol text)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_quote  tr_quotes;
    v_m      tr_strand;
    v_state  jsonb;
    v_long   boolean;
    v_px     numeric;
    v_hit    text;
    v_pos    numeric;
    v_qty    numeric;
    v_exit   text;
    v_count  integer := 0;
BEGIN
    SELECT * INTO v_quote FROM tr_quotes WHERE symbol = p_symbol;
    IF v_quote.symbol IS NULL THEN
        RETURN 0;
    END IF;
    FOR v_m IN
        SELECT * FROM tr_strand
         WHERE kind = 'monitoring' AND symbol = p_symbol AND monitoring_state->>'status' = 'active'
         ORDER BY id
           FOR UPDATE
    LOOP
        v_state := v_m.monitoring_state;
        v_long := v_state->>'side' = 'long';
        -- A long exits into the bid, a short into the ask.
        v_px := tr_touch_price(v_quote, CASE WHEN v_long THEN 'sell' ELSE 'buy' END);
        v_hit := CASE
            WHEN v_long AND v_px <= (v_state->>'stop_loss_px')::numeric THEN 'stop_loss'
            WHEN v_long AND v_px >= (v_state->>'take_profit_px')::numeric THEN 'take_profit'
            WHEN NOT v_long AND v_px >= (v_state->>'stop_loss_px')::numeric THEN 'stop_loss'
            WHEN NOT v_long AND v_px <= (v_state->>'take_profit_px')::numeric THEN 'take_profit'
        END;
        CONTINUE WHEN v_hit IS NULL;

        -- What is left to close: the position less the exits already on their way
        -- (made by other monitors, in this pass or earlier, and not yet done).
        SELECT quantity INTO v_pos FROM tr_positions WHERE symbol = p_symbol;
        v_qty := least((v_state->>'qty')::numeric,
                       CASE WHEN v_long THEN greatest(v_pos, 0) ELSE greatest(-v_pos, 0) END
                       - coalesce((SELECT sum(i.qty - i.filled_qty) FROM tr_inbox i
                                    WHERE i.symbol = p_symbol AND i.source = 'monitor' AND i.state <> 'done'
                                      AND i.side = CASE WHEN v_long THEN 'sell' ELSE 'buy' END), 0));
        IF coalesce(v_qty, 0) <= 0 THEN
            UPDATE tr_strand
               SET monitoring_state = monitoring_state || jsonb_build_object('status', 'closed', 'closed_reason', 'no position left', 'closed_at', clock_timestamp()),
                   updated_at = clock_timestamp()
             WHERE id = v_m.id;
            CONTINUE;
        END IF;
        v_exit := tr_ulid();
        INSERT INTO tr_inbox (id, source, source_id, lifecycle_id, symbol, timeframe, session_bucket, regime, order_spec)
        VALUES (v_exit, 'monitor', v_m.id, v_m.lifecycle_id, p_symbol, v_m.timeframe, v_m.session_bucket, v_m.regime,
                jsonb_build_object('side', CASE WHEN v_long THEN 'sell' ELSE 'buy' END, 'qty', v_qty,
                                   'order_type', 'market', 'tif', 'ioc', 'reduce_only', true, 'ref_px', v_px,
                                   'venue', v_m.route_hint, 'exit_reason', v_hit, 'protects', v_state->'protects'));
        UPDATE tr_strand
           SET monitoring_state = monitoring_state || jsonb_build_object('status', 'triggered', 'triggered_by', v_hit,
                                      'trigger_px', v_px, 'quote_strand_id', v_quote.strand_id,
                                      'exit_order_id', v_exit, 'triggered_at', clock_timestamp()),
               updated_at = clock_timestamp()
         WHERE id = v_m.id;
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END
$$;

COMMENT ON FUNCTION tr_evaluate_monitors(text) IS
    'Checks a symbol''s active monitors against its quote (a long''s stop at or below the bid, take-profit at or above it; mirrored with the ask for a short); each crossed monitor puts one reduce-only market exit in the inbox and is marked triggered. Returns how many triggered.';

CREATE FUNCTION tr_monitor_market_update()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    -- Only a quote that was applied (it is now the symbol's quote) is acted on.
    PERFORM tr_evaluate_monitors(q.symbol)
       FROM tr_quotes q
      WHERE q.symbol = btrim(coalesce(NEW.symbol, NEW.market_data->>'symbol')) AND q.strand_id = NEW.id;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION tr_monitor_market_update() IS
    'Trigger on md_strand, after tr_apply_market_update (triggers fire in name order): evaluates the monitors of the quoted symbol.';

CREATE TRIGGER tr_monitor_market_update
    AFTER INSERT ON md_strand
    FOR EACH ROW
    WHEN (NEW.tags @> ARRAY['tr:market_update']::text[])
    EXECUTE FUNCTION tr_monitor_market_update();

-- A position closed or flipped by other means leaves nothing to protect.
CREATE FUNCTION tr_close_monitors()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    UPDATE tr_strand
       SET monitoring_state = monitoring_state || jsonb_build_object('status', 'closed',
               'closed_reason', 'position ' || (NEW.position_data->>'event'), 'closed_at', clock_timestamp()),
           updated_at = clock_timestamp()
     WHERE kind = 'monitoring' AND symbol = NEW.symbol AND monitoring_state->>'status' = 'active';
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION tr_close_monitors() IS 'Trigger on position strands: a close to flat or a flip closes the symbol''s active monitors.';

CREATE TRIGGER tr_close_monitors
    AFTER INSERT ON tr_strand
    FOR EACH ROW
    WHEN (NEW.kind = 'position' AND NEW.position_data->>'event' IN ('closed', 'flipped'))
    EXECUTE FUNCTION tr_close_monitors();

REVOKE EXECUTE ON FUNCTION tr_sync_monitor(), tr_evaluate_monitors(text), tr_monitor_market_update(),
                           tr_close_monitors() FROM PUBLIC;

COMMIT;
