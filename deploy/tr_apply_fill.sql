-- Deploy trader:tr_apply_fill
-- Netting bookkeeping: one position per symbol, signed quantity, exact arithmetic.
-- Each opening from flat, flip and close to flat is also written as a 'position'
-- strand: the trade outcomes a user asks about first, and what the learning loop braids.
BEGIN;


-- The orders of each open cycle, one row each: a cycle can run to thousands of
-- orders, and appending to a JSON list would rewrite it on every fill.
CREATE TABLE tr_cycle_orders (
    symbol   text NOT NULL,
    order_id text NOT NULL,
    first_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (symbol, order_id)
);

COMMENT ON TABLE tr_cycle_orders IS
    'The orders that have filled in each symbol''s open position cycle; emptied into the position strand when the cycle closes or flips.';
GRANT SELECT ON tr_cycle_orders TO tr_worker, tr_inspector;


-- Raises on input no venue could have produced. Quantities and prices past 8 decimal
-- places are refused, not rounded: rounding them would silently change the position.
CREATE FUNCTION tr_check_fill(p_symbol text, p_side text, p_qty numeric, p_px numeric, p_fee numeric)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_name  text;
    v_value numeric;
BEGIN
    IF coalesce(btrim(p_symbol), '') = '' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'fill rejected: symbol is empty',
            HINT = 'Pass the symbol the fill is for, e.g. BTC-USD.';
    END IF;
    IF p_side IS NULL OR p_side NOT IN ('buy', 'sell') THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('fill rejected: side must be buy or sell, got %s', coalesce(quote_literal(p_side), 'NULL')),
            HINT = 'Sides are lower-case: buy or sell.';
    END IF;
    FOREACH v_name IN ARRAY ARRAY['qty', 'px'] LOOP
        v_value := CASE v_name WHEN 'qty' THEN p_qty ELSE p_px END;
        IF v_value IS NULL OR v_value = 'NaN' OR v_value IN ('Infinity', '-Infinity') OR v_value <= 0 THEN
            RAISE EXCEPTION USING ERRCODE = '22023',
                MESSAGE = format('fill rejected: %s must be a positive finite number, got %s', v_name, coalesce(v_value::text, 'NULL')),
                HINT = 'Quantities and prices are positive; the side says the direction.';
        END IF;
        IF tr_decimal_places(v_value) > 8 THEN
            RAISE EXCEPTION USING ERRCODE = '22023',
                MESSAGE = format('fill rejected: %s %s has more than 8 decimal places', v_name, v_value),
                HINT = 'Quantities and prices are kept to 8 decimal places and refused, not rounded, beyond.';
        END IF;
        IF v_value >= 1e12 THEN
            RAISE EXCEPTION USING ERRCODE = '22003',
                MESSAGE = format('fill rejected: %s %s is out of range', v_name, v_value),
                HINT = 'Quantities and prices must be below 10^12 (DECIMAL(20,8)).';
        END IF;
    END LOOP;
    IF p_fee IS NULL OR p_fee = 'NaN' OR p_fee IN ('Infinity', '-Infinity') THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('fill rejected: fee must be a finite number, got %s', coalesce(p_fee::text, 'NULL')),
            HINT = 'Pass 0 for no fee; a negative fee is a rebate.';
    END IF;
END
$$;

COMMENT ON FUNCTION tr_check_fill(text, text, numeric, numeric, numeric) IS
    'Raises 22023 (or 22003) with a message and hint for a fill that cannot be applied; returns nothing otherwise.';

CREATE FUNCTION tr_position_json(p tr_positions)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object('symbol', p.symbol, 'quantity', p.quantity, 'avg_price', p.avg_price,
                              'mark_price', p.mark_price, 'unrealized_pnl', p.unrealized_pnl,
                              'realized_pnl', p.realized_pnl, 'updated_at', p.updated_at)
$$;

COMMENT ON FUNCTION tr_position_json(tr_positions) IS 'A position as the position_data of a report.';

-- A cycle's summary: averages from exact sums, rounded for reading.
CREATE FUNCTION tr_cycle_summary(p_cycle jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT jsonb_build_object(
        'side',         p_cycle->>'side',
        'quantity',     (p_cycle->>'entry_qty')::numeric,
        'entry_avg',    round((p_cycle->>'entry_value')::numeric / nullif((p_cycle->>'entry_qty')::numeric, 0), 8),
        'exit_qty',     (p_cycle->>'exit_qty')::numeric,
        'exit_avg',     round((p_cycle->>'exit_value')::numeric / nullif((p_cycle->>'exit_qty')::numeric, 0), 8),
        'fees',         round((p_cycle->>'fees')::numeric, 8),
        'realized_pnl', round((p_cycle->>'realized')::numeric, 8),
        'opened_at',    p_cycle->'opened_at',
        'closed_at',    p_cycle->'closed_at',
        'orders',       p_cycle->'orders')
$$;

COMMENT ON FUNCTION tr_cycle_summary(jsonb) IS
    'The position_data of a position strand: side, quantity, entry and exit averages, fees and realized PnL of the cycle, times, orders.';

CREATE FUNCTION tr_apply_fill(
    p_symbol   text,
    p_side     text,
    p_qty      numeric,
    p_px       numeric,
    p_fee      numeric     DEFAULT 0,
    p_order_id text        DEFAULT NULL,
    p_at       timestamptz DEFAULT clock_timestamp())
RETURNS tr_positions
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_pos         tr_positions;
    v_dir         integer := CASE p_side WHEN 'buy' THEN 1 ELSE -1 END;
    v_old         numeric;
    v_new         numeric;
    v_avg         numeric;
    v_closed      numeric := 0;
    v_opened      numeric;
    v_gross       numeric := 0;   -- realized by this fill before fees
    v_closing_fee numeric := 0;   -- the share of the fee that belongs to the closed part
    v_cycle       jsonb;
    v_order       jsonb := CASE WHEN p_order_id IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(p_order_id) END;
    v_item        tr_inbox;
    v_event       text;
    v_data        jsonb;
    v_strand_id   text;
    v_open_strand text;           -- the strand that opened the current cycle
    v_mark        numeric;
    v_marked_at   timestamptz;
    v_orders      jsonb;
BEGIN
    PERFORM tr_check_fill(p_symbol, p_side, p_qty, p_px, p_fee);

    -- Two first fills of a new symbol race on the INSERT; ON CONFLICT makes the loser
    -- wait on the winner's row lock instead of failing.
    INSERT INTO tr_positions (symbol, quantity, avg_price, unrealized_pnl, realized_pnl)
    VALUES (p_symbol, 0, 0, 0, 0)
    ON CONFLICT (symbol) DO NOTHING;
    SELECT * INTO v_pos FROM tr_positions WHERE symbol = p_symbol FOR UPDATE;

    v_old   := v_pos.quantity;
    v_avg   := v_pos.avg_price_exact;
    v_cycle := v_pos.cycle;
    v_new   := v_old + v_dir * p_qty;
    v_open_strand := v_cycle->>'strand_id';
    IF v_cycle IS NULL AND v_old <> 0 THEN
        -- A position written by hand: its cycle starts from what it holds.
        v_cycle := jsonb_build_object('side', CASE WHEN v_old > 0 THEN 'long' ELSE 'short' END,
                                      'opened_at', v_pos.updated_at, 'entry_qty', abs(v_old),
                                      'entry_value', abs(v_old) * v_avg, 'exit_qty', 0, 'exit_value', 0,
                                      'fees', 0, 'realized', 0);
    END IF;
    IF abs(v_new) >= 1e12 THEN
        RAISE EXCEPTION USING ERRCODE = '22003', MESSAGE = format('fill rejected: position in %s would reach %s', p_symbol, v_new),
            HINT = 'Positions must stay below 10^12 units (DECIMAL(20,8)).';
    END IF;

    IF v_old = 0 OR sign(v_old) = v_dir THEN
        -- Adding: the quantity-weighted average, kept to 24 places (the multiplier
        -- sets the division's scale), so that the 8-place column never compounds.
        v_opened := p_qty;
        v_avg := round((abs(v_old) * v_avg + p_qty * p_px) * 1.000000000000000000000000 / (abs(v_old) + p_qty), 24);
    ELSE
        -- Reducing: realize against the unchanged average; what is left over opens
        -- the other side at the fill price.
        v_closed := least(abs(v_old), p_qty);
        v_opened := p_qty - v_closed;
        v_gross := (p_px - v_avg) * v_closed * sign(v_old);
        v_closing_fee := p_fee * v_closed / p_qty;
        IF v_opened > 0 THEN
            v_avg := p_px;
        ELSIF v_new = 0 THEN
            v_avg := 0;
        END IF;
    END IF;

    -- The cycle: what closes is booked to the open cycle, what opens starts a new one.
    IF v_closed > 0 THEN
        v_cycle := v_cycle || jsonb_build_object(
            'exit_qty',   (v_cycle->>'exit_qty')::numeric + v_closed,
            'exit_value', (v_cycle->>'exit_value')::numeric + v_closed * p_px,
            'fees',       (v_cycle->>'fees')::numeric + v_closing_fee,
            'realized',   (v_cycle->>'realized')::numeric + v_gross - v_closing_fee);
        IF p_order_id IS NOT NULL THEN
            INSERT INTO tr_cycle_orders (symbol, order_id) VALUES (p_symbol, p_order_id) ON CONFLICT DO NOTHING;
        END IF;
        IF v_new = 0 OR v_opened > 0 THEN
            WITH closed AS (DELETE FROM tr_cycle_orders WHERE symbol = p_symbol RETURNING order_id, first_at)
            SELECT coalesce(jsonb_agg(order_id ORDER BY first_at, order_id), '[]') INTO v_orders FROM closed;
            v_data := tr_cycle_summary(v_cycle || jsonb_build_object('closed_at', p_at, 'orders', v_orders));
            v_event := CASE WHEN v_opened > 0 THEN 'flipped' ELSE 'closed' END;
        END IF;
    END IF;
    IF v_old = 0 OR v_opened > 0 AND v_closed > 0 THEN
        v_cycle := jsonb_build_object('side', CASE v_dir WHEN 1 THEN 'long' ELSE 'short' END,
                                      'opened_at', p_at, 'entry_qty', v_opened, 'entry_value', v_opened * p_px,
                                      'exit_qty', 0, 'exit_value', 0, 'fees', p_fee - v_closing_fee,
                                      'realized', -(p_fee - v_closing_fee));
        IF p_order_id IS NOT NULL THEN
            INSERT INTO tr_cycle_orders (symbol, order_id) VALUES (p_symbol, p_order_id) ON CONFLICT DO NOTHING;
        END IF;
        v_event := coalesce(v_event, 'opened');
    ELSIF v_closed = 0 THEN
        v_cycle := v_cycle || jsonb_build_object(
            'entry_qty',   (v_cycle->>'entry_qty')::numeric + p_qty,
            'entry_value', (v_cycle->>'entry_value')::numeric + p_qty * p_px,
            'fees',        (v_cycle->>'fees')::numeric + p_fee,
            'realized',    (v_cycle->>'realized')::numeric - p_fee);
        IF p_order_id IS NOT NULL THEN
            INSERT INTO tr_cycle_orders (symbol, order_id) VALUES (p_symbol, p_order_id) ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    IF v_new = 0 THEN
        v_cycle := NULL;
    END IF;

    -- Marked at the latest quote; without one, at the latest fill.
    SELECT mark, quote_ts INTO v_mark, v_marked_at FROM tr_quotes WHERE symbol = p_symbol;
    IF v_mark IS NULL THEN
        v_mark := p_px;
        v_marked_at := p_at;
    END IF;

    UPDATE tr_positions
       SET quantity           = v_new,
           avg_price_exact    = v_avg,
           avg_price          = round(v_avg, 8),
           realized_pnl_exact = realized_pnl_exact + v_gross - p_fee,
           realized_pnl       = round(realized_pnl_exact + v_gross - p_fee, 8),
           mark_price         = v_mark,
           marked_at          = v_marked_at,
           unrealized_pnl     = round((v_mark - v_avg) * v_new, 8),
           cycle              = v_cycle,
           updated_at         = clock_timestamp()
     WHERE id = v_pos.id
    RETURNING * INTO v_pos;

    IF v_event IS NOT NULL THEN
        IF p_order_id IS NOT NULL THEN
            SELECT * INTO v_item FROM tr_inbox WHERE id = p_order_id;
        END IF;
        IF v_event = 'opened' THEN
            v_data := tr_cycle_summary(v_cycle || jsonb_build_object('orders', v_order));
        ELSIF v_event = 'flipped' THEN
            v_data := v_data || jsonb_build_object('next', tr_cycle_summary(v_cycle || jsonb_build_object('orders', v_order)));
        END IF;
        INSERT INTO tr_strand (kind, lifecycle_id, parent_id, symbol, timeframe, session_bucket, regime,
                               decision_id, position_data, tags)
        VALUES ('position', v_item.lifecycle_id, v_open_strand, p_symbol, v_item.timeframe,
                v_item.session_bucket, v_item.regime, p_order_id,
                v_data || jsonb_build_object('event', v_event, 'position', tr_position_json(v_pos)), '{}')
        RETURNING id INTO v_strand_id;
        IF v_event IN ('opened', 'flipped') THEN
            UPDATE tr_positions SET cycle = cycle || jsonb_build_object('strand_id', v_strand_id)
             WHERE id = v_pos.id RETURNING * INTO v_pos;
        END IF;
    END IF;

    RETURN v_pos;
END
$$;

COMMENT ON FUNCTION tr_apply_fill(text, text, numeric, numeric, numeric, text, timestamptz) IS
    'Applies one fill to the symbol''s netted position (weighted average on adds, realized PnL on reduces, flips at the fill price, fee subtracted from realized PnL) and returns the position. Writes a position strand when the position opens from flat, flips or closes to flat.';

REVOKE EXECUTE ON FUNCTION tr_check_fill(text, text, numeric, numeric, numeric), tr_position_json(tr_positions),
                           tr_cycle_summary(jsonb),
                           tr_apply_fill(text, text, numeric, numeric, numeric, text, timestamptz) FROM PUBLIC;

COMMIT;
