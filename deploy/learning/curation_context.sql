-- Deploy trader:learning/curation_context
-- Everything curation needs, in one call per batch: the decision, its quote, touch
-- price, position and risk, the curator weights, the venues with their recent
-- execution quality and what the lessons do there, and the lessons that match it.
-- Lessons are braid and meta_braid strands whose lesson_metadata.lesson holds
-- {conditions, effects, insight, expires_at}. The rules (touch price, whether the
-- order increases the position, the lessons' effect) are decided here once; the
-- worker's curators only read their results.
BEGIN;

INSERT INTO tr_settings (key, value, description) VALUES
    ('curation.threshold', '0.3', 'Curation approves an order when its combined, lesson-adjusted score reaches this (0 to 1). Scores are shaped so that any valid order in ordinary markets clears 0.3 under equal weights.'),
    ('curation.timeout_ms', '250', 'How long a curator may take for a batch before it is left out of that batch''s decisions.'),
    ('curation.plugins', '', 'Comma-separated plug-in curators the worker loads (module:factory), beside the three built in.'),
    ('curation.quality_window', '50', 'How many recent executions per venue and symbol make a venue''s recent quality.');

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
-- lesson matches anything; a venue condition is left to tr_lesson_effect, which
-- weighs the lessons venue by venue), most specific first, braids before meta-braids.
CREATE FUNCTION tr_match_lessons(p_symbol text, p_regime text, p_timeframe text, p_session_bucket text,
                                 p_now timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (lesson_id text, kind text, conditions jsonb, effects jsonb, insight text, specificity integer)
LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
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
         ORDER BY 6 DESC, s.kind = 'meta_braid', s.id;
END
$$;

COMMENT ON FUNCTION tr_match_lessons(text, text, text, text, timestamptz) IS
    'The active lessons whose conditions (symbol, regime, timeframe, session_bucket) match; venue conditions are returned for tr_lesson_effect to apply venue by venue. Most specific first, braids before meta-braids.';

-- An exact product: exp(sum(ln)) is off in the last digits, and a size multiplier of
-- 0.29999... instead of 0.3 would round a quantity of 10 down to 2.99999999.
CREATE AGGREGATE tr_product(numeric) (SFUNC = numeric_mul, STYPE = numeric, INITCOND = '1');

COMMENT ON AGGREGATE tr_product(numeric) IS 'The exact product of the non-NULL values; 1 for none.';

-- The one rule for what lessons do to an order, venue by venue, so that the venue
-- choice, the score and the quantity all follow the same lessons. SECURITY DEFINER:
-- the worker gets the effect without the right to call the matching underneath.
CREATE FUNCTION tr_lesson_effect(p_symbol text, p_regime text, p_timeframe text, p_session_bucket text,
                                 p_venues text[], p_order_venue text DEFAULT NULL,
                                 p_now timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (venue text, lesson_effect jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH venues AS (
            SELECT DISTINCT v AS venue FROM unnest(p_venues) v WHERE v IS NOT NULL
        ), in_venue AS (
            SELECT v.venue, m.lesson_id, m.kind, m.ord,
                   tr_json_numeric(m.effects->'confidence_multiplier') AS confidence,
                   tr_json_numeric(m.effects->'size_multiplier') AS size,
                   coalesce(m.effects->>'avoid_venue' = v.venue, false) AS avoids,
                   coalesce(m.effects->>'prefer_venue' = v.venue, false) AS prefers
              FROM venues v
              JOIN tr_match_lessons(p_symbol, p_regime, p_timeframe, p_session_bucket, p_now)
                   WITH ORDINALITY AS m(lesson_id, kind, conditions, effects, insight, specificity, ord)
                ON coalesce(m.conditions->>'venue', v.venue) = v.venue
        ), in_force AS (
            -- A meta-braid speaks for a venue only where no braid does.
            SELECT a.* FROM in_venue a
             WHERE a.kind = 'braid' OR NOT EXISTS (SELECT FROM in_venue b WHERE b.venue = a.venue AND b.kind = 'braid')
        ), steering AS (
            SELECT lesson_id, ord FROM in_force
             WHERE (avoids OR prefers) AND (p_order_venue IS NULL OR venue = p_order_venue)
        )
        SELECT v.venue, jsonb_build_object(
            'lessons', (SELECT coalesce(jsonb_agg(a.lesson_id ORDER BY a.ord), '[]')
                          FROM (SELECT f.lesson_id, f.ord FROM in_force f
                                 WHERE f.venue = v.venue AND (f.confidence <> 1 OR f.size <> 1)
                                UNION SELECT s.lesson_id, s.ord FROM steering s) a),
            'confidence_multiplier', least(2.0, greatest(0.25, tr_product(greatest(f.confidence, 0)) FILTER (WHERE f.confidence IS NOT NULL))),
            'size_multiplier', least(1, tr_product(greatest(f.size, 0)) FILTER (WHERE f.size IS NOT NULL)),
            'avoid', coalesce(bool_or(f.avoids), false),
            'prefer', coalesce(bool_or(f.prefers), false))
          FROM venues v
          LEFT JOIN in_force f ON f.venue = v.venue
         GROUP BY v.venue;
END
$$;

COMMENT ON FUNCTION tr_lesson_effect(text, text, text, text, text[], text, timestamptz) IS
    'What the lessons in force do to an order at each of p_venues. At a venue the lessons in force are the matching braids without a venue condition or with that venue, else (no such braid) the matching meta-braids likewise. confidence_multiplier: the product of theirs, held within [0.25, 2.0]; size_multiplier: the product of theirs (each at least 0), at most 1, so never up; avoid / prefer: one of them avoids / prefers that venue. lessons: the lessons applied if the order goes to that venue, in match order: those in force there naming a confidence or size multiplier other than 1, and every lesson that avoids or prefers a venue where it is in force and which the order could have gone to (p_order_venue alone when the order names one, else any of p_venues).';

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
        ), enabled AS (
            SELECT array_agg(v.name ORDER BY v.name) AS names FROM tr_venues v WHERE v.enabled
        ), exposure AS (
            SELECT coalesce(sum(abs(quantity * coalesce(mark_price, avg_price))), 0) AS gross FROM tr_positions
        ), quality AS MATERIALIZED (
            -- Once per batch: inlined, it would be read again for every order.
            SELECT v.name AS venue, s.symbol,
                   jsonb_build_object('n', count(p.execution_score), 'mean_slip_bps', round(avg(p.slippage_bps), 4),
                                      'mean_latency_ms', round(avg(p.latency_ms), 1),
                                      'mean_score', round(avg(p.execution_score), 4)) AS q
              FROM tr_venues v
             CROSS JOIN (SELECT DISTINCT symbol FROM orders) s
              LEFT JOIN LATERAL (
                    SELECT e.slippage_bps, e.latency_ms, e.execution_score FROM tr_execution_performance e
                     WHERE e.venue = v.name AND e.symbol = s.symbol
                     ORDER BY e.created_at DESC
                     LIMIT tr_setting('curation.quality_window')::integer) p ON true
             WHERE v.enabled
             GROUP BY v.name, s.symbol
        ), effects AS MATERIALIZED (
            -- Once per distinct symbol, regime, timeframe, session and requested venue:
            -- the orders of a batch mostly share them.
            SELECT k.symbol, k.regime, k.timeframe, k.session_bucket, k.requested_venue, e.venue, e.lesson_effect
              FROM (SELECT DISTINCT o.symbol, o.regime, o.timeframe, o.session_bucket, o.requested_venue FROM orders o) k
             CROSS JOIN LATERAL tr_lesson_effect(k.symbol, k.regime, k.timeframe, k.session_bucket,
                                                 (SELECT names FROM enabled), k.requested_venue) e
        )
        SELECT o.id, jsonb_build_object(
            'order', jsonb_build_object('id', o.id, 'source', o.source, 'symbol', o.symbol, 'lifecycle_id', o.lifecycle_id,
                                        'regime', o.regime, 'timeframe', o.timeframe, 'session_bucket', o.session_bucket,
                                        'signal_strength', o.signal_strength,
                                        'spec', jsonb_strip_nulls(jsonb_build_object(
                                            'side', o.side, 'qty', o.qty, 'order_type', o.order_type, 'limit_px', o.limit_px,
                                            'tif', o.tif, 'venue', o.requested_venue, 'ref_px', o.ref_px,
                                            'stop_loss_px', o.stop_loss_px, 'take_profit_px', o.take_profit_px,
                                            'reduce_only', o.reduce_only))),
            'quote', (SELECT jsonb_build_object('bid', q.bid, 'ask', q.ask, 'last', q.last, 'mark', q.mark, 'ts', q.quote_ts)
                        FROM tr_quotes q WHERE q.symbol = o.symbol),
            'touch', (SELECT tr_touch_price(q, o.side) FROM tr_quotes q WHERE q.symbol = o.symbol),
            'position', (SELECT jsonb_build_object('quantity', p.quantity, 'avg_price', p.avg_price, 'mark_price', p.mark_price)
                           FROM tr_positions p WHERE p.symbol = o.symbol),
            'increases_position', tr_increases_position(
                coalesce((SELECT p.quantity FROM tr_positions p WHERE p.symbol = o.symbol), 0),
                CASE o.side WHEN 'buy' THEN 1 WHEN 'sell' THEN -1 END * o.qty),
            'gross_exposure', (SELECT gross FROM exposure),
            'risk', (SELECT to_jsonb(r) FROM tr_effective_risk(o.symbol) r),
            'weights', (SELECT w FROM weights),
            'venues', (SELECT jsonb_agg(jsonb_build_object('name', v.name, 'adapter', v.adapter, 'params', v.params,
                                                           'quality', q.q, 'lesson_effect', e.lesson_effect) ORDER BY v.name)
                         FROM tr_venues v JOIN quality q ON q.venue = v.name AND q.symbol = o.symbol
                         LEFT JOIN effects e ON e.venue = v.name AND e.symbol IS NOT DISTINCT FROM o.symbol
                               AND e.regime IS NOT DISTINCT FROM o.regime AND e.timeframe IS NOT DISTINCT FROM o.timeframe
                               AND e.session_bucket IS NOT DISTINCT FROM o.session_bucket
                               AND e.requested_venue IS NOT DISTINCT FROM o.requested_venue
                        WHERE v.enabled),
            'lessons', (SELECT coalesce(jsonb_agg(to_jsonb(l)), '[]')
                          FROM tr_match_lessons(o.symbol, o.regime, o.timeframe, o.session_bucket) l))
          FROM orders o;
END
$$;

COMMENT ON FUNCTION tr_curation_context(text[]) IS
    'For each work item named: its decision, quote, touch price (tr_touch_price), position, whether it increases the position (tr_increases_position), gross exposure, effective risk, curator weights, enabled venues with recent quality for the symbol and the lessons'' effect there (tr_lesson_effect), and matching lessons, as one JSON context.';

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

REVOKE EXECUTE ON FUNCTION tr_lesson_in_force(jsonb, timestamptz), tr_match_lessons(text, text, text, text, timestamptz), tr_product(numeric),
                           tr_lesson_effect(text, text, text, text, text[], text, timestamptz), tr_curation_context(text[]),
                           tr_register_curator(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_curation_context(text[]), tr_register_curator(text),
                          tr_lesson_effect(text, text, text, text, text[], text, timestamptz) TO tr_worker;

COMMIT;
