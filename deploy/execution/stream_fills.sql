-- Deploy trader:execution/stream_fills to pg
-- An exchange's user stream delivers a fill as it happens, named by the exchange's
-- order id (and by the client order id where the exchange sends it), with no order
-- status beside it. The order it belongs to and the status the fill leaves it in are
-- decided here, from the order's row: filled when the fills cover the quantity sent,
-- partially filled before. A fill the polls also bring counts once (tr_fills' key).
BEGIN;

CREATE INDEX tr_inbox_working_venue_order ON tr_inbox (venue, venue_order_id) WHERE state = 'working';
COMMENT ON INDEX tr_inbox_working_venue_order IS 'Working orders by the exchange''s order id, as stream fills name them.';

-- The order a stream event names: by the Trader's id (from the client order id), else
-- by the exchange's order id among working orders (a final order's fills are all known).
CREATE FUNCTION tr_stream_order(p_venue text, p_order_id text, p_venue_order_id text)
RETURNS tr_inbox
LANGUAGE sql STABLE
AS $$
    SELECT * FROM public.tr_inbox WHERE id = p_order_id AND venue = p_venue
    UNION ALL
    SELECT * FROM public.tr_inbox WHERE venue = p_venue AND venue_order_id = p_venue_order_id AND state = 'working'
    LIMIT 1
$$;

COMMENT ON FUNCTION tr_stream_order(text, text, text) IS
    'The order a stream event of venue names, by order id, or by the exchange''s order id among working orders; NULL when none.';

CREATE FUNCTION tr_report_stream_fills(p_venue text, p_events jsonb)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_events  jsonb;
    v_reports jsonb;
    v_held    jsonb;
BEGIN
    -- Each event's order looked up once: whether its fills can be reported now, or it
    -- is held (the venue has not answered for the order yet, so the quantity sent that
    -- decides completion is unknown, or it names no order the Trader knows).
    SELECT jsonb_agg(jsonb_build_object('n', e.n - 1, 'order_id', o.id, 'fills', e.ev->'fills',
                                        'open', o.state = 'working' AND o.status IN ('working', 'partially_filled'),
                                        'held', o.id IS NULL OR o.status = 'received'))
      INTO v_events
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_events) = 'array' THEN p_events ELSE '[]' END) WITH ORDINALITY e(ev, n)
      LEFT JOIN LATERAL tr_stream_order(p_venue, left(e.ev->>'order_id', 128), left(e.ev->>'venue_order_id', 128)) o ON true
     WHERE jsonb_typeof(e.ev) = 'object' AND jsonb_typeof(e.ev->'fills') = 'array';
    WITH fresh AS (
        -- Fills already recorded (a poll was first) are left out, and a fill the stream
        -- delivered twice is taken once, so that none counts twice or makes an empty report.
        SELECT DISTINCT ON (ev->>'order_id', f.fill->>'fill_id') ev->>'order_id' AS order_id, f.fill,
               tr_json_numeric(f.fill->'qty') AS qty
          FROM jsonb_array_elements(coalesce(v_events, '[]')) ev
         CROSS JOIN LATERAL jsonb_array_elements(ev->'fills') f(fill)
         WHERE (ev->>'open')::boolean
           AND NOT EXISTS (SELECT FROM tr_fills x WHERE x.order_id = ev->>'order_id' AND x.fill_id = f.fill->>'fill_id')
         ORDER BY ev->>'order_id', f.fill->>'fill_id', (ev->>'n')::integer
    ), per_order AS (
        SELECT order_id, jsonb_agg(fill) AS fills, sum(qty) AS qty FROM fresh GROUP BY order_id
    )
    SELECT jsonb_agg(jsonb_build_object('order_id', i.id, 'report', jsonb_build_object(
               'status', CASE WHEN i.filled_qty + coalesce(p.qty, 0) >= coalesce(i.order_qty, i.qty) THEN 'filled' ELSE 'partially_filled' END,
               'venue', p_venue, 'venue_order_id', i.venue_order_id, 'fills', p.fills)))
      INTO v_reports
      FROM per_order p JOIN tr_inbox i ON i.id = p.order_id;
    SELECT jsonb_agg(ev->'n' ORDER BY (ev->>'n')::integer) INTO v_held
      FROM jsonb_array_elements(coalesce(v_events, '[]')) ev
     WHERE (ev->>'held')::boolean;
    IF v_reports IS NOT NULL THEN
        PERFORM tr_report_executions(v_reports);
    END IF;
    RETURN jsonb_build_object('reported', coalesce((SELECT jsonb_agg(r->>'order_id') FROM jsonb_array_elements(v_reports) r), '[]'),
                              'unmatched', coalesce(v_held, '[]'));
END
$$;

COMMENT ON FUNCTION tr_report_stream_fills(text, jsonb) IS
    'Fills from a venue''s user stream, [{order_id, venue_order_id, fills: [{fill_id, px, qty, fee, ts, fee_charged}]}]: each event''s new fills reported on its working order, status from the quantities (filled when they cover what was sent). Returns {reported: [order ids], unmatched: [event indexes]}: an event naming no order, or one the venue has not answered for yet, is the caller''s to hold and offer again (polling being the fallback); one for a final order is done with. Never raises on content.';

REVOKE EXECUTE ON FUNCTION tr_stream_order(text, text, text), tr_report_stream_fills(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_report_stream_fills(text, jsonb) TO tr_worker;

COMMIT;
