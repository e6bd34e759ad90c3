-- Deploy trader:learning/braids
-- Braids: executions with a common pattern (symbol, venue, regime, timeframe,
-- session bucket) inside a time window become one 'braid' strand, linked to its
-- members, with statistics and a lesson: its conditions (the pattern), its effects
-- and a one-sentence insight. Braids that share a venue across symbols form a
-- 'meta_braid'. A pg_cron job forms them; rerunning it changes nothing until the
-- evidence does, and a lesson whose evidence has left the window expires. What the
-- lessons do to an order is tr_lesson_effect's (tr_curation_context).
BEGIN;

INSERT INTO tr_settings (key, value, description) VALUES
    ('braids.window', '24 hours', 'Executions this recent are braided; a lesson expires this long after its newest member.'),
    ('braids.min_size', '5', 'A pattern needs at least this many executions to become a braid.'),
    ('braids.slip_excess_bps', '2', 'Mean slippage beyond the prediction (bps) that makes a braid''s lesson avoid or prefer its venue.'),
    ('braids.meta_min_braids', '2', 'Braids on one venue (different symbols) needed to form a meta_braid for that venue.'),
    ('braids.insight_hook', '', 'A function (jsonb) -> text that writes a braid''s insight, e.g. by calling a language model; empty for the template.');

CREATE TABLE tr_braid_members (
    braid_id  text NOT NULL,
    member_id text NOT NULL,
    PRIMARY KEY (braid_id, member_id)
);
CREATE INDEX tr_braid_members_member ON tr_braid_members (member_id);
COMMENT ON TABLE tr_braid_members IS 'Which strands a braid (executions) or meta_braid (braids) was formed from.';

-- The insight in plain words; the hook may write it instead, and the template
-- stands whenever the hook is off, fails or returns nothing.
CREATE FUNCTION tr_braid_insight(p_braid jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_hook    text := tr_setting('braids.insight_hook');
    v_text    text;
    v_effects jsonb := p_braid->'effects';
    v_stats   jsonb := p_braid->'stats';
BEGIN
    IF v_hook <> '' THEN
        BEGIN
            EXECUTE format('SELECT %s($1)', v_hook::regproc) USING p_braid INTO v_text;
            IF coalesce(btrim(v_text), '') <> '' THEN
                RETURN jsonb_build_object('insight', v_text, 'insight_source', v_hook);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'braid insight hook % failed: %', v_hook, SQLERRM;
        END;
    END IF;
    v_text := format('%s orders %son %s slipped %s bps on average against %s bps predicted over %s executions (fill ratio %s)%s.',
        coalesce(p_braid->'conditions'->>'symbol', 'All'),
        CASE WHEN p_braid->'conditions' ? 'regime' THEN 'in a ' || (p_braid->'conditions'->>'regime') || ' regime ' ELSE '' END,
        coalesce(p_braid->'conditions'->>'venue', 'any venue'),
        round((v_stats->>'mean_slip_bps')::numeric, 1), round(coalesce((v_stats->>'mean_predicted_slip_bps')::numeric, 0), 1),
        v_stats->>'n', round((v_stats->>'fill_ratio')::numeric, 2),
        CASE WHEN v_effects ? 'avoid_venue' THEN ': route elsewhere and trade smaller there'
             WHEN v_effects ? 'prefer_venue' THEN ': prefer it'
             ELSE ': as expected' END);
    RETURN jsonb_build_object('insight', v_text, 'insight_source', 'template');
END
$$;

COMMENT ON FUNCTION tr_braid_insight(jsonb) IS
    'A braid''s insight sentence: from the braids.insight_hook function when set and working, else from the template.';

-- Creates or refreshes the braid of one pattern; returns true when it changed.
CREATE FUNCTION tr_upsert_braid(p_kind text, p_key text, p_conditions jsonb, p_effects jsonb, p_stats jsonb,
                                p_members text[], p_expires_at timestamptz, p_now timestamptz)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_id     text;
    v_same   boolean;
    v_lesson jsonb;
BEGIN
    SELECT id INTO v_id FROM tr_strand
     WHERE kind = p_kind AND lesson_metadata @> jsonb_build_object('pattern_key', p_key)
     ORDER BY id LIMIT 1 FOR UPDATE;
    IF v_id IS NOT NULL THEN
        -- The same members with the same statistics is the same evidence: nothing to
        -- learn again. (A meta_braid's members stay the same braids while their
        -- statistics grow, so both are compared.)
        SELECT array_agg(member_id ORDER BY member_id) = (SELECT array_agg(m ORDER BY m) FROM unnest(p_members) m)
               AND (SELECT lesson_metadata->'stats' = p_stats
                       AND (lesson_metadata->'lesson'->>'expires_at')::timestamptz IS NOT DISTINCT FROM p_expires_at
                       AND coalesce((lesson_metadata->'lesson'->>'active')::boolean, true)
                      FROM tr_strand WHERE id = v_id)
          INTO v_same FROM tr_braid_members WHERE braid_id = v_id;
        IF v_same THEN
            RETURN false;
        END IF;
    END IF;
    v_lesson := jsonb_build_object('conditions', p_conditions, 'effects', p_effects, 'active', true, 'expires_at', p_expires_at)
                || tr_braid_insight(jsonb_build_object('conditions', p_conditions, 'effects', p_effects, 'stats', p_stats));
    IF v_id IS NULL THEN
        INSERT INTO tr_strand (kind, symbol, regime, timeframe, session_bucket, route_hint, lesson_metadata, tags, created_at, updated_at)
        VALUES (p_kind, p_conditions->>'symbol', p_conditions->>'regime', p_conditions->>'timeframe', p_conditions->>'session_bucket',
                p_conditions->>'venue', jsonb_build_object('pattern_key', p_key, 'stats', p_stats, 'lesson', v_lesson), '{}', p_now, p_now)
        RETURNING id INTO v_id;
    ELSE
        UPDATE tr_strand SET lesson_metadata = jsonb_build_object('pattern_key', p_key, 'stats', p_stats, 'lesson', v_lesson),
                             updated_at = p_now
         WHERE id = v_id;
        DELETE FROM tr_braid_members WHERE braid_id = v_id;
    END IF;
    INSERT INTO tr_braid_members (braid_id, member_id) SELECT v_id, m FROM unnest(p_members) m;
    RETURN true;
END
$$;

COMMENT ON FUNCTION tr_upsert_braid(text, text, jsonb, jsonb, jsonb, text[], timestamptz, timestamptz) IS
    'Creates the braid or meta_braid of a pattern, or refreshes it when its members changed; true when something changed.';

-- Job body.
CREATE FUNCTION tr_form_braids(p_now timestamptz DEFAULT clock_timestamp())
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_window   interval := tr_setting('braids.window')::interval;
    v_min      integer := tr_setting('braids.min_size')::integer;
    v_excess   numeric := tr_setting('braids.slip_excess_bps')::numeric;
    v_meta_min integer := tr_setting('braids.meta_min_braids')::integer;
    g          record;
    v_effects  jsonb;
    v_changed  integer := 0;
BEGIN
    FOR g IN
        SELECT e.symbol, e.venue, e.regime, e.timeframe, e.session_bucket,
               array_agg(e.id ORDER BY e.id) AS members, count(*) AS n, max(e.at) AS newest,
               avg(e.slip) AS mean_slip, avg(e.pred) AS mean_pred,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY (e.slip - coalesce(e.pred, 0))::float8) AS p95_excess,
               avg(e.slip - e.pred) AS mean_excess, avg(e.fill_ratio) AS fill_ratio, avg(e.latency) AS latency
          FROM (SELECT s.id, s.symbol, s.exec_metrics->>'venue' AS venue, s.regime, s.timeframe, s.session_bucket,
                       tr_json_numeric(s.exec_metrics->'slip_real_bps') AS slip, tr_json_numeric(s.tr_predict->'slip_bps') AS pred,
                       tr_json_numeric(s.exec_metrics->'filled_qty') / nullif(tr_json_numeric(s.exec_metrics->'order_qty'), 0) AS fill_ratio,
                       tr_json_numeric(s.exec_metrics->'latency_ms') AS latency, s.updated_at AS at
                  FROM tr_strand s
                 WHERE s.kind = 'execution' AND s.updated_at >= p_now - v_window AND s.updated_at <= p_now
                   AND tr_status_is_final((s.exec_metrics->>'status')::tr_order_status)
                   AND tr_json_numeric(s.exec_metrics->'filled_qty') > 0
                   AND tr_json_numeric(s.exec_metrics->'slip_real_bps') IS NOT NULL) e
         GROUP BY e.symbol, e.venue, e.regime, e.timeframe, e.session_bucket
        HAVING count(*) >= v_min
    LOOP
        v_effects := CASE
            WHEN g.mean_excess > v_excess AND g.mean_slip > 1.5 * greatest(g.mean_pred, 0.1)
                THEN jsonb_build_object('avoid_venue', g.venue, 'confidence_multiplier', 0.9, 'size_multiplier', 0.5)
            WHEN g.mean_excess < -v_excess
                THEN jsonb_build_object('prefer_venue', g.venue, 'confidence_multiplier', 1.05)
            ELSE jsonb_build_object('confidence_multiplier', 1.0) END;
        IF tr_upsert_braid('braid',
               concat_ws('|', g.symbol, g.venue, g.regime, g.timeframe, g.session_bucket),
               jsonb_strip_nulls(jsonb_build_object('symbol', g.symbol, 'venue', g.venue, 'regime', g.regime,
                                                    'timeframe', g.timeframe, 'session_bucket', g.session_bucket)),
               v_effects,
               jsonb_build_object('n', g.n, 'mean_slip_bps', round(g.mean_slip, 4), 'mean_predicted_slip_bps', round(g.mean_pred, 4),
                                  'mean_excess_slip_bps', round(g.mean_excess, 4), 'p95_excess_slip_bps', round(g.p95_excess::numeric, 4),
                                  'fill_ratio', round(g.fill_ratio, 4), 'mean_latency_ms', round(g.latency, 1)),
               g.members, g.newest + v_window, p_now) THEN
            v_changed := v_changed + 1;
        END IF;
    END LOOP;

    -- Meta-braids: the same venue across symbols.
    FOR g IN
        SELECT b.route_hint AS venue, array_agg(b.id ORDER BY b.id) AS members, count(*) AS n,
               sum((b.lesson_metadata->'stats'->>'n')::integer) AS executions,
               avg((b.lesson_metadata->'stats'->>'mean_slip_bps')::numeric) AS mean_slip,
               avg((b.lesson_metadata->'stats'->>'mean_predicted_slip_bps')::numeric) AS mean_pred,
               avg((b.lesson_metadata->'stats'->>'fill_ratio')::numeric) AS fill_ratio,
               count(*) FILTER (WHERE b.lesson_metadata->'lesson'->'effects' ? 'avoid_venue') AS avoiding,
               max((b.lesson_metadata->'lesson'->>'expires_at')::timestamptz) AS expires_at
          FROM tr_strand b
         WHERE b.kind = 'braid' AND b.route_hint IS NOT NULL
           AND (b.lesson_metadata->'lesson'->>'expires_at')::timestamptz > p_now
         GROUP BY b.route_hint
        HAVING count(DISTINCT b.symbol) >= v_meta_min
    LOOP
        IF tr_upsert_braid('meta_braid', 'venue|' || g.venue, jsonb_build_object('venue', g.venue),
               CASE WHEN g.avoiding * 2 > g.n
                    THEN jsonb_build_object('avoid_venue', g.venue, 'confidence_multiplier', 0.95)
                    ELSE jsonb_build_object('confidence_multiplier', 1.0) END,
               jsonb_build_object('n', g.executions, 'braids', g.n, 'mean_slip_bps', round(g.mean_slip, 4),
                                  'mean_predicted_slip_bps', round(g.mean_pred, 4), 'fill_ratio', round(g.fill_ratio, 4)),
               g.members, g.expires_at, p_now) THEN
            v_changed := v_changed + 1;
        END IF;
    END LOOP;

    -- Stale lessons: evidence older than the window.
    UPDATE tr_strand
       SET lesson_metadata = jsonb_set(lesson_metadata, '{lesson,active}', 'false'), updated_at = p_now
     WHERE kind IN ('braid', 'meta_braid')
       AND (lesson_metadata->'lesson'->>'active')::boolean
       AND (lesson_metadata->'lesson'->>'expires_at')::timestamptz <= p_now;
    RETURN v_changed;
END
$$;

COMMENT ON FUNCTION tr_form_braids(timestamptz) IS
    'Job body: forms or refreshes braids of executions sharing a pattern within braids.window (at least braids.min_size), and meta_braids of braids sharing a venue; expires stale lessons. Returns how many braids changed.';

CREATE VIEW tr_active_lessons AS
SELECT s.id, s.kind, s.lesson_metadata->'lesson'->'conditions' AS conditions, s.lesson_metadata->'lesson'->'effects' AS effects,
       s.lesson_metadata->'lesson'->>'insight' AS insight, s.lesson_metadata->'lesson'->>'insight_source' AS insight_source,
       (s.lesson_metadata->'stats'->>'n')::integer AS executions,
       (s.lesson_metadata->'stats'->>'mean_slip_bps')::numeric AS mean_slip_bps,
       (s.lesson_metadata->'stats'->>'mean_predicted_slip_bps')::numeric AS mean_predicted_slip_bps,
       (SELECT count(*) FROM tr_braid_members m WHERE m.braid_id = s.id) AS members,
       (s.lesson_metadata->'lesson'->>'expires_at')::timestamptz AS expires_at, s.updated_at
  FROM tr_strand s
 WHERE s.kind IN ('braid', 'meta_braid')
   AND tr_lesson_in_force(s.lesson_metadata->'lesson', clock_timestamp())
 ORDER BY s.kind, s.updated_at DESC;

COMMENT ON VIEW tr_active_lessons IS 'Lessons in force, with their conditions, effects, insight and evidence.';

REVOKE EXECUTE ON FUNCTION tr_braid_insight(jsonb), tr_upsert_braid(text, text, jsonb, jsonb, jsonb, text[], timestamptz, timestamptz),
                           tr_form_braids(timestamptz) FROM PUBLIC;
GRANT SELECT ON tr_braid_members, tr_active_lessons TO tr_worker, tr_inspector;
-- A view's readers call its functions with their own rights; this one reads no table.
GRANT EXECUTE ON FUNCTION tr_lesson_in_force(jsonb, timestamptz) TO tr_worker, tr_inspector;

DO $$ BEGIN PERFORM tr_schedule_job('trader-form-braids', '* * * * *', 'SELECT tr_form_braids()'); END $$;

COMMIT;
