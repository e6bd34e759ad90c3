-- Deploy trader:execution/paper_venue
-- The paper venue: a simulated exchange, deterministic given the quotes. Its order
-- book lives in its own table, as an exchange's would, so it survives a worker
-- restart and answers queries by client order id; the worker talks to it only
-- through these functions, on its own connection, like any venue's API.
--   market order  fills at the touch (ask for a buy, bid for a sell) moved against
--                 it by impact = impact_bps_per_unit x qty x the symbol's slippage
--                 multiplier (1 unless configured);
--   limit order   marketable: fills at the better of the limit and that price;
--                 otherwise rests (gtc, day) or is cancelled (ioc), and a resting
--                 order fills at its limit when a later quote crosses it;
--   fees          fee_bps of the notional; fills are stamped latency_ms after submission.
BEGIN;

CREATE TABLE tr_paper_orders (
    venue           text NOT NULL,
    client_order_id text NOT NULL,
    venue_order_id  text NOT NULL DEFAULT tr_ulid(),
    symbol          text NOT NULL,
    side            text NOT NULL CHECK (side IN ('buy', 'sell')),
    qty             numeric NOT NULL CHECK (qty > 0),
    order_type      text NOT NULL CHECK (order_type IN ('market', 'limit')),
    limit_px        numeric,
    tif             text NOT NULL CHECK (tif IN ('ioc', 'gtc', 'day')),
    status          text NOT NULL CHECK (status IN ('working', 'filled', 'cancelled', 'rejected')),
    reason          text,
    fills           jsonb NOT NULL DEFAULT '[]',
    submitted_at    timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (venue, client_order_id)
);

CREATE INDEX tr_paper_orders_resting ON tr_paper_orders (symbol) WHERE status = 'working';

COMMENT ON TABLE tr_paper_orders IS
    'The paper venue''s own order book: one row per client order id (the Trader''s work item id), never two.';

CREATE FUNCTION tr_paper_answer(o tr_paper_orders)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    SELECT jsonb_build_object('client_order_id', o.client_order_id, 'venue_order_id', o.venue_order_id,
                              'status', o.status, 'reason', o.reason, 'fills', o.fills,
                              'submitted_at', o.submitted_at)
$$;

COMMENT ON FUNCTION tr_paper_answer(tr_paper_orders) IS 'A paper order as the venue reports it: ids, status, reason, fills, submission time.';

-- One fill at px for the whole quantity.
CREATE FUNCTION tr_paper_fill(o tr_paper_orders, p_px numeric, p_fee_bps numeric, p_at timestamptz)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    SELECT jsonb_build_array(jsonb_build_object(
        'fill_id', o.venue || '-' || o.client_order_id || '-1',
        'px', p_px, 'qty', o.qty,
        'fee', round(p_px * o.qty * p_fee_bps / 10000, 8),
        'ts', p_at))
$$;

COMMENT ON FUNCTION tr_paper_fill(tr_paper_orders, numeric, numeric, timestamptz) IS 'The paper venue''s fill record for a whole order at one price.';

CREATE FUNCTION tr_paper_submit(p_venue text, p_order jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_params  jsonb;
    o         tr_paper_orders;
    v_quote   tr_quotes;
    v_touch   numeric;
    v_impact  numeric;
    v_px      numeric;
    v_buy     boolean;
BEGIN
    SELECT params INTO v_params FROM tr_venues WHERE name = p_venue AND adapter = 'paper' AND enabled;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('no enabled paper venue %L', p_venue),
            HINT = 'SELECT name FROM tr_venues WHERE adapter = ''paper'' AND enabled;';
    END IF;

    -- A client order id is accepted once; a resubmission answers with the order as it is.
    SELECT * INTO o FROM tr_paper_orders WHERE venue = p_venue AND client_order_id = p_order->>'client_order_id';
    IF FOUND THEN
        RETURN tr_paper_answer(o) || '{"duplicate": true}';
    END IF;

    o.venue := p_venue;
    o.client_order_id := p_order->>'client_order_id';
    o.venue_order_id := tr_ulid();
    o.symbol := p_order->>'symbol';
    o.side := p_order->>'side';
    o.qty := (p_order->>'qty')::numeric;
    o.order_type := coalesce(p_order->>'order_type', 'market');
    o.limit_px := (p_order->>'limit_px')::numeric;
    o.tif := coalesce(p_order->>'tif', CASE o.order_type WHEN 'market' THEN 'ioc' ELSE 'gtc' END);
    o.submitted_at := clock_timestamp();
    o.fills := '[]';
    v_buy := o.side = 'buy';

    SELECT * INTO v_quote FROM tr_quotes WHERE symbol = o.symbol;
    v_touch := tr_touch_price(v_quote, o.side);
    IF v_touch IS NULL THEN
        o.status := 'rejected';
        o.reason := 'NO_MARKET_DATA';
    ELSE
        v_impact := coalesce((v_params->>'impact_bps_per_unit')::numeric, 0) * o.qty
                    * coalesce((v_params->'slippage_multipliers'->>o.symbol)::numeric, 1);
        v_px := round(v_touch * (1 + CASE WHEN v_buy THEN 1 ELSE -1 END * v_impact / 10000), 8);
        IF v_px <= 0 OR v_impact >= 10000 THEN
            -- An order that would walk the simulated book to nothing: no such liquidity.
            v_px := NULL;
            o.reason := 'INSUFFICIENT_LIQUIDITY';
        ELSIF o.order_type = 'limit' THEN
            IF (v_buy AND o.limit_px >= v_touch) OR (NOT v_buy AND o.limit_px <= v_touch) THEN
                v_px := CASE WHEN v_buy THEN least(o.limit_px, v_px) ELSE greatest(o.limit_px, v_px) END;
            ELSE
                v_px := NULL;
            END IF;
        END IF;
        IF o.reason = 'INSUFFICIENT_LIQUIDITY' THEN
            o.status := 'rejected';
        ELSIF v_px IS NOT NULL THEN
            o.status := 'filled';
            o.fills := tr_paper_fill(o, v_px, coalesce((v_params->>'fee_bps')::numeric, 0),
                                     o.submitted_at + coalesce((v_params->>'latency_ms')::numeric, 0) * interval '1 millisecond');
        ELSIF o.tif = 'ioc' THEN
            o.status := 'cancelled';
            o.reason := 'NOT_MARKETABLE';
        ELSE
            o.status := 'working';
        END IF;
    END IF;
    o.updated_at := clock_timestamp();
    INSERT INTO tr_paper_orders SELECT o.* ON CONFLICT (venue, client_order_id) DO NOTHING;
    IF NOT FOUND THEN
        -- Another session submitted the same client order id a moment ago.
        SELECT * INTO o FROM tr_paper_orders WHERE venue = p_venue AND client_order_id = p_order->>'client_order_id';
        RETURN tr_paper_answer(o) || '{"duplicate": true}';
    END IF;
    RETURN tr_paper_answer(o);
END
$$;

COMMENT ON FUNCTION tr_paper_submit(text, jsonb) IS
    'Submits {client_order_id, symbol, side, qty, order_type, limit_px, tif} to a paper venue and returns its answer (status working, filled, cancelled or rejected, fills). A client order id already known returns that order.';

CREATE FUNCTION tr_paper_submit_batch(p_venue text, p_orders jsonb)
RETURNS SETOF jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    -- The simulated book needs no flush of its own: a submission lost in a crash is an
    -- order the venue never saw, which reconciliation already handles, and the WAL
    -- keeps it after its intent.
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN QUERY
        SELECT tr_paper_submit(p_venue, o) FROM jsonb_array_elements(p_orders) WITH ORDINALITY AS t(o, n) ORDER BY n;
END
$$;

COMMENT ON FUNCTION tr_paper_submit_batch(text, jsonb) IS 'Submits an array of orders to a paper venue in one call; answers in the same order.';

CREATE FUNCTION tr_paper_order(p_venue text, p_client_order_id text)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT tr_paper_answer(o) FROM tr_paper_orders o WHERE o.venue = p_venue AND o.client_order_id = p_client_order_id
$$;

COMMENT ON FUNCTION tr_paper_order(text, text) IS 'The paper venue''s answer for a client order id, NULL when it never saw it.';

CREATE FUNCTION tr_paper_cancel(p_venue text, p_client_order_id text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    o tr_paper_orders;
BEGIN
    UPDATE tr_paper_orders
       SET status = 'cancelled', reason = 'CANCELLED_BY_CLIENT', updated_at = clock_timestamp()
     WHERE venue = p_venue AND client_order_id = p_client_order_id AND status = 'working'
    RETURNING * INTO o;
    IF NOT FOUND THEN
        SELECT * INTO o FROM tr_paper_orders WHERE venue = p_venue AND client_order_id = p_client_order_id;
    END IF;
    RETURN CASE WHEN o.client_order_id IS NULL THEN NULL ELSE tr_paper_answer(o) END;
END
$$;

COMMENT ON FUNCTION tr_paper_cancel(text, text) IS
    'Cancels a resting paper order and returns its answer; an order already final is returned as it is; NULL for an unknown id.';

-- Resting orders fill at their limit when an applied quote crosses them.
CREATE FUNCTION tr_paper_match_quote()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_quote tr_quotes;
    o       tr_paper_orders;
BEGIN
    SELECT * INTO v_quote FROM tr_quotes
     WHERE symbol = coalesce(nullif(btrim(NEW.symbol), ''), nullif(btrim(NEW.market_data->>'symbol'), '')) AND strand_id = NEW.id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    FOR o IN
        SELECT * FROM tr_paper_orders p
         WHERE p.symbol = v_quote.symbol AND p.status = 'working'
           AND (p.side = 'buy' AND tr_touch_price(v_quote, 'buy') <= p.limit_px
             OR p.side = 'sell' AND tr_touch_price(v_quote, 'sell') >= p.limit_px)
         ORDER BY p.submitted_at
           FOR UPDATE
    LOOP
        UPDATE tr_paper_orders
           SET status = 'filled',
               fills = tr_paper_fill(o, o.limit_px,
                                     coalesce((SELECT (params->>'fee_bps')::numeric FROM tr_venues WHERE name = o.venue), 0),
                                     v_quote.quote_ts),
               updated_at = clock_timestamp()
         WHERE venue = o.venue AND client_order_id = o.client_order_id;
    END LOOP;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION tr_paper_match_quote() IS 'Trigger on md_strand: an applied quote fills the paper venues'' resting limit orders it crosses, at their limit.';

CREATE TRIGGER tr_paper_match_quote
    AFTER INSERT ON md_strand
    FOR EACH ROW
    WHEN (NEW.tags @> ARRAY['tr:market_update']::text[])
    EXECUTE FUNCTION tr_paper_match_quote();

REVOKE EXECUTE ON FUNCTION tr_paper_answer(tr_paper_orders), tr_paper_fill(tr_paper_orders, numeric, numeric, timestamptz),
                           tr_paper_submit(text, jsonb), tr_paper_submit_batch(text, jsonb), tr_paper_order(text, text),
                           tr_paper_cancel(text, text), tr_paper_match_quote() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_paper_submit(text, jsonb), tr_paper_submit_batch(text, jsonb), tr_paper_order(text, text),
                          tr_paper_cancel(text, text) TO tr_worker;
GRANT SELECT ON tr_paper_orders TO tr_worker, tr_inspector;

COMMIT;
