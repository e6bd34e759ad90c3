-- Deploy trader:execution/apply_fill
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
CREATE FUNCTION tr_assert_fill(p_symbol text, p_side text, p_qty numeric, p_px numeric, p_fee numeric)
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

COMMENT ON FUNCTION tr_assert_fill(text, text, numeric, numeric, numeric) IS
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

-- What a fill did to a position: the position after it, and the summary of the cycle
-- it closed, if it closed one.
CREATE TYPE tr_position_change AS (pos tr_positions, closed jsonb);

COMMENT ON TYPE tr_position_change IS 'A position after a step of tr_apply_fill, and the summary of the cycle that step closed (NULL if none).';

-- The cycle of a position nobody opened through a fill (written by hand): it starts
-- from what the position holds.
CREATE FUNCTION tr_cycle_from_holding(p tr_positions)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN p.quantity <> 0 THEN
        jsonb_build_object('side', CASE WHEN p.quantity > 0 THEN 'long' ELSE 'short' END, 'opened_at', p.updated_at,
                           'entry_qty', abs(p.quantity), 'entry_value', abs(p.quantity) * p.avg_price_exact,
                           'exit_qty', 0, 'exit_value', 0, 'fees', 0, 'realized', 0) END
$$;

COMMENT ON FUNCTION tr_cycle_from_holding(tr_positions) IS 'The open cycle of a position that has none recorded: its whole holding, at its average, entered when it was last updated.';

-- Adding on the position's side, or opening from flat: the quantity-weighted average,
-- kept to 24 places (the multiplier sets the division's scale) so that the 8-place
-- column never compounds.
CREATE FUNCTION tr_position_add(p tr_positions, p_dir integer, p_qty numeric, p_px numeric, p_fee numeric,
                                p_order_id text, p_at timestamptz)
RETURNS tr_positions
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    p.avg_price_exact := round((abs(p.quantity) * p.avg_price_exact + p_qty * p_px) * 1.000000000000000000000000
                               / (abs(p.quantity) + p_qty), 24);
    p.cycle := CASE WHEN p.quantity = 0
        THEN jsonb_build_object('side', CASE p_dir WHEN 1 THEN 'long' ELSE 'short' END, 'opened_at', p_at,
                                'entry_qty', p_qty, 'entry_value', p_qty * p_px, 'exit_qty', 0, 'exit_value', 0,
                                'fees', p_fee, 'realized', -p_fee)
        ELSE p.cycle || jsonb_build_object('entry_qty', (p.cycle->>'entry_qty')::numeric + p_qty,
                                           'entry_value', (p.cycle->>'entry_value')::numeric + p_qty * p_px,
                                           'fees', (p.cycle->>'fees')::numeric + p_fee,
                                           'realized', (p.cycle->>'realized')::numeric - p_fee) END;
    p.quantity := p.quantity + p_dir * p_qty;
    p.realized_pnl_exact := p.realized_pnl_exact - p_fee;
    IF p_order_id IS NOT NULL THEN
        INSERT INTO tr_cycle_orders (symbol, order_id) VALUES (p.symbol, p_order_id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN p;
END
$$;

COMMENT ON FUNCTION tr_position_add(tr_positions, integer, numeric, numeric, numeric, text, timestamptz) IS
    'A fill on the position''s side (or from flat): weighted average, fee off realized PnL, the cycle''s entry; returns the position (not yet written).';

-- Reducing, at most to flat: realize against the unchanged average. Closing to flat
-- ends the cycle, whose summary (with the orders that made it) is returned.
CREATE FUNCTION tr_position_reduce(p tr_positions, p_qty numeric, p_px numeric, p_fee numeric,
                                   p_order_id text, p_at timestamptz)
RETURNS tr_position_change
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_gross  numeric := (p_px - p.avg_price_exact) * p_qty * sign(p.quantity);
    v_orders jsonb;
    v_closed jsonb;
BEGIN
    p.cycle := p.cycle || jsonb_build_object('exit_qty', (p.cycle->>'exit_qty')::numeric + p_qty,
                                             'exit_value', (p.cycle->>'exit_value')::numeric + p_qty * p_px,
                                             'fees', (p.cycle->>'fees')::numeric + p_fee,
                                             'realized', (p.cycle->>'realized')::numeric + v_gross - p_fee);
    p.quantity := p.quantity - sign(p.quantity) * p_qty;
    p.realized_pnl_exact := p.realized_pnl_exact + v_gross - p_fee;
    IF p_order_id IS NOT NULL THEN
        INSERT INTO tr_cycle_orders (symbol, order_id) VALUES (p.symbol, p_order_id) ON CONFLICT DO NOTHING;
    END IF;
    IF p.quantity = 0 THEN
        WITH ended AS (DELETE FROM tr_cycle_orders WHERE symbol = p.symbol RETURNING order_id, first_at)
        SELECT coalesce(jsonb_agg(order_id ORDER BY first_at, order_id), '[]') INTO v_orders FROM ended;
        v_closed := tr_cycle_summary(p.cycle || jsonb_build_object('closed_at', p_at, 'orders', v_orders));
        p.cycle := NULL;
        p.avg_price_exact := 0;
    END IF;
    RETURN ROW(p, v_closed)::tr_position_change;
END
$$;

COMMENT ON FUNCTION tr_position_reduce(tr_positions, numeric, numeric, numeric, text, timestamptz) IS
    'A fill against the position, at most its size: realized PnL at the unchanged average, less the fee; at flat the cycle ends and its summary is returned with the position (not yet written).';

-- Each opening from flat, flip and close to flat becomes a position strand, the
-- closing ones pointing at the strand that opened their cycle.
CREATE FUNCTION tr_record_position_event(p tr_positions, p_event text, p_data jsonb, p_parent text, p_order_id text)
RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, public, pg_temp
AS $$
    INSERT INTO tr_strand (kind, lifecycle_id, parent_id, symbol, timeframe, session_bucket, regime, decision_id,
                           position_data, tags)
    SELECT 'position', i.lifecycle_id, p_parent, p.symbol, i.timeframe, i.session_bucket, i.regime, p_order_id,
           p_data || jsonb_build_object('event', p_event, 'position', tr_position_json(p)), '{}'
      FROM (SELECT NULL) one LEFT JOIN tr_inbox i ON i.id = p_order_id
    RETURNING id
$$;

COMMENT ON FUNCTION tr_record_position_event(tr_positions, text, jsonb, text, text) IS
    'Writes a position strand (opened, flipped or closed) with the cycle''s data and the position after it; returns its id.';

-- Fills are dispatched by what they do: add (or open from flat), reduce (perhaps to
-- flat), or flip, which is a close of the whole position and an open of the rest on
-- the other side at the fill price, the fee split between them by quantity.
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
    v_dir    integer := CASE p_side WHEN 'buy' THEN 1 ELSE -1 END;
    v_pos    tr_positions;
    v_change tr_position_change;
    v_held   numeric;
    v_parent text;
    v_event  text;
    v_data   jsonb;
    v_opened jsonb;
    v_quote  tr_quotes;
BEGIN
    PERFORM tr_assert_fill(p_symbol, p_side, p_qty, p_px, p_fee);
    -- Two first fills of a new symbol race on the INSERT; ON CONFLICT makes the loser
    -- wait on the winner's row lock instead of failing.
    INSERT INTO tr_positions (symbol, quantity, avg_price, unrealized_pnl, realized_pnl)
    VALUES (p_symbol, 0, 0, 0, 0) ON CONFLICT (symbol) DO NOTHING;
    SELECT * INTO v_pos FROM tr_positions WHERE symbol = p_symbol FOR UPDATE;
    v_pos.cycle := coalesce(v_pos.cycle, tr_cycle_from_holding(v_pos));
    v_held := abs(v_pos.quantity);
    v_parent := v_pos.cycle->>'strand_id';
    IF abs(v_pos.quantity + v_dir * p_qty) >= 1e12 THEN
        RAISE EXCEPTION USING ERRCODE = '22003', MESSAGE = format('fill rejected: position in %s would reach %s', p_symbol, v_pos.quantity + v_dir * p_qty),
            HINT = 'Positions must stay below 10^12 units (DECIMAL(20,8)).';
    END IF;

    IF v_held = 0 OR sign(v_pos.quantity) = v_dir THEN
        v_pos := tr_position_add(v_pos, v_dir, p_qty, p_px, p_fee, p_order_id, p_at);
        v_event := CASE WHEN v_held = 0 THEN 'opened' END;
    ELSE
        v_change := tr_position_reduce(v_pos, least(v_held, p_qty), p_px, p_fee * least(v_held, p_qty) / p_qty, p_order_id, p_at);
        v_pos := v_change.pos;
        v_data := v_change.closed;
        v_event := CASE WHEN v_data IS NOT NULL THEN 'closed' END;
        IF p_qty > v_held THEN
            v_pos := tr_position_add(v_pos, v_dir, p_qty - v_held, p_px, p_fee - p_fee * v_held / p_qty, p_order_id, p_at);
            v_event := 'flipped';
        END IF;
    END IF;

    -- Marked at the latest quote; without one, at the latest fill.
    SELECT * INTO v_quote FROM tr_quotes WHERE symbol = p_symbol;
    UPDATE tr_positions
       SET quantity = v_pos.quantity, avg_price_exact = v_pos.avg_price_exact, avg_price = round(v_pos.avg_price_exact, 8),
           realized_pnl_exact = v_pos.realized_pnl_exact, realized_pnl = round(v_pos.realized_pnl_exact, 8),
           mark_price = coalesce(v_quote.mark, p_px), marked_at = coalesce(v_quote.quote_ts, p_at),
           unrealized_pnl = round((coalesce(v_quote.mark, p_px) - v_pos.avg_price_exact) * v_pos.quantity, 8),
           cycle = v_pos.cycle, updated_at = clock_timestamp()
     WHERE id = v_pos.id
    RETURNING * INTO v_pos;

    IF v_event IS NOT NULL THEN
        IF v_event IN ('opened', 'flipped') THEN
            -- The cycle just opened, as its opening strand and a flip's "next" tell it.
            v_opened := tr_cycle_summary(v_pos.cycle || jsonb_build_object(
                'orders', CASE WHEN p_order_id IS NULL THEN '[]' ELSE jsonb_build_array(p_order_id) END));
            v_data := coalesce(v_data || jsonb_build_object('next', v_opened), v_opened);
        END IF;
        v_parent := tr_record_position_event(v_pos, v_event, v_data, v_parent, p_order_id);
        IF v_event IN ('opened', 'flipped') THEN
            UPDATE tr_positions SET cycle = cycle || jsonb_build_object('strand_id', v_parent)
             WHERE id = v_pos.id RETURNING * INTO v_pos;
        END IF;
    END IF;
    RETURN v_pos;
END
$$;

COMMENT ON FUNCTION tr_apply_fill(text, text, numeric, numeric, numeric, text, timestamptz) IS
    'Applies one fill to the symbol''s netted position (weighted average on adds, realized PnL on reduces, a flip as a close and an open at the fill price, fee subtracted from realized PnL) and returns the position. Writes a position strand when the position opens from flat, flips or closes to flat.';

REVOKE EXECUTE ON FUNCTION tr_assert_fill(text, text, numeric, numeric, numeric), tr_position_json(tr_positions),
                           tr_cycle_summary(jsonb), tr_cycle_from_holding(tr_positions),
                           tr_position_add(tr_positions, integer, numeric, numeric, numeric, text, timestamptz),
                           tr_position_reduce(tr_positions, numeric, numeric, numeric, text, timestamptz),
                           tr_record_position_event(tr_positions, text, jsonb, text, text),
                           tr_apply_fill(text, text, numeric, numeric, numeric, text, timestamptz) FROM PUBLIC;

COMMIT;
