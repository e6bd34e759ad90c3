-- Deploy trader:tr_curation_context
-- Everything curation needs, in one call per batch: the decision, its quote,
-- position and risk, the curator weights, the venues with their recent execution
-- quality, and the lessons that match it. Lessons are braid and meta_braid strands
-- whose lesson_metadata.lesson holds {conditions, effects, insight, expires_at}.
BEGIN;

INSERT INTO tr_settings (key, value, description) VALUES
    ('curation.threshold', '0.3', 'Curation approves an order when its combined, lesson-adjusted score reaches this (0 to 1). Scores are shaped so that any valid order in ordinary markets clears 0.3 under equal weights.'),
    ('curation.timeout_ms', '250', 'How long a curator may take for a batch before it is left out of that batch''s decisions.'),
    ('curation.plugins', '', 'Comma-separated plug-in curators the worker loads (module:factory), beside the three built in.'),
    ('curation.quality_window', '50', 'How many recent executions per venue and symbol make a venue''s recent quality.');

CREATE INDEX tr_strand_lessons ON tr_strand (kind, symbol) WHERE kind IN ('braid', 'meta_braid');
COMMENT ON INDEX tr_strand_lessons IS 'Addition: the lessons read for every curated batch.';

-- One rule for whether a lesson is in force, used wherever lessons are read.
CREATE FUNCTION tr_lesson_in_force(p_lesson jsonb, p_now timestamptz)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_typeof(p_lesson) = 'object'
       AND coalesce((p_lesson->>'active')::boolean, true)
       AND (p_lesson->>'expires_at' IS NULL OR (p_lesson->>'expires_at')::timestamptz > p_now)
$$;

COMMENT ON FUNCTION tr_lesson_in_force(jsonb, timestamptz) IS
    'Whether a lesson (lesson_metadata.lesson) is in force at p_now: an object, not marked inactive, not expired.';

-- Lessons whose conditions hold for a decision's context (a condition absent from a
-- lesson matches anything; a venue condition is kept for the worker, which knows the
-- venue only when it chooses one), most specific first, braids before meta-braids.
CREATE FUNCTION tr_match_lessons(p_symbol text, p_regime text, p_timeframe text, p_session_bucket text,
                                 p_now timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (lesson_id text, kind text, conditions jsonb, effects jsonb, insight text, specificity integer)
LANGUAGE sql STABLE
AS $$
    SELECT s.id, s.kind, l->'conditions', l->'effects', l->>'insight',
           (SELECT count(*)::integer FROM jsonb_object_keys(coalesce(l->'conditions', '{}')))
      FROM public.tr_strand s
     CROSS JOIN LATERAL (SELECT s.lesson_metadata->'lesson' AS l) x
     WHERE s.kind IN ('braid', 'meta_braid')
       AND public.tr_lesson_in_force(l, p_now)
       AND (NOT coalesce(l->'conditions', '{}') ? 'symbol' OR l->'conditions'->>'symbol' = p_symbol)
       AND (NOT coalesce(l->'conditions', '{}') ? 'regime' OR l->'conditions'->>'regime' = p_regime)
       AND (NOT coalesce(l->'conditions', '{}') ? 'timeframe' OR l->'conditions'->>'timeframe' = p_timeframe)
       AND (NOT coalesce(l->'conditions', '{}') ? 'session_bucket' OR l->'conditions'->>'session_bucket' = p_session_bucket)
     ORDER BY 6 DESC, s.kind = 'meta_braid', s.id
$$;

COMMENT ON FUNCTION tr_match_lessons(text, text, text, text, timestamptz) IS
    'The active lessons whose conditions (symbol, regime, timeframe, session_bucket) match; venue conditions are returned for the caller to apply. Most specific first, braids before meta-braids.';

-- jit off: the planner's estimate for this query crosses jit_above_cost, and
-- compiling it costs tens of milliseconds on every call for a few rows of work.
CREATE FUNCTION tr_curation_context(p_order_ids text[])
RETURNS TABLE (order_id text, context jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
SET jit = off
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH orders AS (
            SELECT i.* FROM tr_inbox i WHERE i.id = ANY (p_order_ids)
        ), weights AS (
            SELECT jsonb_object_agg(curator_type, jsonb_build_object('weight', weight, 'confidence', confidence)) AS w
              FROM tr_curator_weights
        ), exposure AS (
            SELECT coalesce(sum(abs(quantity * coalesce(mark_price, avg_price))), 0) AS gross FROM tr_positions
        ), quality AS (
            SELECT v.name AS venue, s.symbol,
                   jsonb_build_object('n', count(p.*), 'mean_slip_bps', round(avg(p.slippage_bps), 4),
                                      'mean_latency_ms', round(avg(p.latency_ms), 1),
                                      'mean_score', round(avg(p.execution_score), 4)) AS q
              FROM tr_venues v
             CROSS JOIN (SELECT DISTINCT symbol FROM orders) s
              LEFT JOIN LATERAL (
                    SELECT * FROM tr_execution_performance e
                     WHERE e.venue = v.name AND e.symbol = s.symbol
                     ORDER BY e.created_at DESC
                     LIMIT tr_setting('curation.quality_window')::integer) p ON true
             WHERE v.enabled
             GROUP BY v.name, s.symbol
        )
        SELECT o.id, jsonb_build_object(
            'order', jsonb_build_object('id', o.id, 'source', o.source, 'symbol', o.symbol, 'lifecycle_id', o.lifecycle_id,
                                        'regime', o.regime, 'timeframe', o.timeframe, 'session_bucket', o.session_bucket,
                                        'signal_strength', o.signal_strength, 'spec', o.order_spec),
            'quote', (SELECT jsonb_build_object('bid', q.bid, 'ask', q.ask, 'last', q.last, 'mark', q.mark, 'ts', q.quote_ts)
                        FROM tr_quotes q WHERE q.symbol = o.symbol),
            'position', (SELECT jsonb_build_object('quantity', p.quantity, 'avg_price', p.avg_price, 'mark_price', p.mark_price)
                           FROM tr_positions p WHERE p.symbol = o.symbol),
            'gross_exposure', (SELECT gross FROM exposure),
            'risk', (SELECT to_jsonb(r) FROM tr_effective_risk(o.symbol) r),
            'weights', (SELECT w FROM weights),
            'venues', (SELECT jsonb_agg(jsonb_build_object('name', v.name, 'adapter', v.adapter, 'params', v.params,
                                                           'quality', q.q) ORDER BY v.name)
                         FROM tr_venues v JOIN quality q ON q.venue = v.name AND q.symbol = o.symbol
                        WHERE v.enabled),
            'lessons', (SELECT coalesce(jsonb_agg(to_jsonb(l)), '[]')
                          FROM tr_match_lessons(o.symbol, o.regime, o.timeframe, o.session_bucket) l))
          FROM orders o;
END
$$;

COMMENT ON FUNCTION tr_curation_context(text[]) IS
    'For each work item named: its decision, quote, position, gross exposure, effective risk, curator weights, enabled venues with recent quality for the symbol, and matching lessons, as one JSON context.';

-- A plug-in curator gets its weight row the first time a worker loads it.
CREATE FUNCTION tr_register_curator(p_curator_type text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF coalesce(p_curator_type, '') !~ '^[a-z][a-z0-9_]*$' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('curator name %L is not a lower-case identifier', p_curator_type),
            HINT = 'Name curators like execution_curator.';
    END IF;
    INSERT INTO tr_curator_weights (curator_type, weight, confidence, lesson_adjustments)
    VALUES (p_curator_type, 1.0, 0.5, '{}')
    ON CONFLICT (curator_type) DO NOTHING;
END
$$;

COMMENT ON FUNCTION tr_register_curator(text) IS 'Gives a curator a weight row (1.0, confidence 0.5) unless it has one.';

REVOKE EXECUTE ON FUNCTION tr_lesson_in_force(jsonb, timestamptz), tr_match_lessons(text, text, text, text, timestamptz), tr_curation_context(text[]),
                           tr_register_curator(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_curation_context(text[]), tr_register_curator(text) TO tr_worker;

COMMIT;
