-- Braids: executions sharing a pattern become one braid strand with statistics and a
-- lesson; braids sharing a venue become a meta_braid; lessons expire with their
-- evidence; the insight may come from a hook; tr_lesson_effect combines the lessons
-- that apply to a decision at a venue.
BEGIN;
SELECT plan(38);

DELETE FROM tr_braid_members; DELETE FROM tr_curator_weight_history; DELETE FROM tr_curator_performance;
DELETE FROM tr_execution_performance; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;
DELETE FROM tr_inbox;
UPDATE tr_curator_weights SET weight = 1, confidence = 0.5;
-- The cases below are sized for these settings.
UPDATE tr_settings SET value = '24 hours' WHERE key = 'braids.window';
UPDATE tr_settings SET value = '5' WHERE key = 'braids.min_size';
UPDATE tr_settings SET value = '2' WHERE key = 'braids.slip_excess_bps';
UPDATE tr_settings SET value = '2' WHERE key = 'braids.meta_min_braids';
UPDATE tr_settings SET value = '' WHERE key = 'braids.insight_hook';

-- One order of one unit (or p_qty, of which p_filled fill and the rest is cancelled),
-- bought at p_px against a reference of 100, so its slippage is (p_px - 100) x 100 bps;
-- every fill comes 200 ms after submission.
CREATE FUNCTION pg_temp.execution(p_id text, p_symbol text, p_venue text, p_px numeric, p_predicted_slip numeric,
                                  p_regime text DEFAULT 'trend', p_qty numeric DEFAULT 1, p_filled numeric DEFAULT 1)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tr_inbox (id, source, source_id, symbol, regime, timeframe, order_spec)
    VALUES (p_id, 'decision', p_id, p_symbol, p_regime, '1m', jsonb_build_object('side', 'buy', 'qty', p_qty, 'ref_px', 100));
    RETURN tr_report_execution(p_id, jsonb_build_object(
        'status', CASE WHEN p_filled < p_qty THEN 'cancelled' ELSE 'filled' END, 'venue', p_venue,
        'submitted_at', '2026-01-01T00:00:00Z', 'tr_predict', jsonb_build_object('slip_bps', p_predicted_slip),
        'fills', jsonb_build_array(jsonb_build_object('fill_id', p_id || '-1', 'px', p_px, 'qty', p_filled,
                                                      'ts', '2026-01-01T00:00:00.200Z'))));
END
$$;

CREATE FUNCTION pg_temp.braid(p_symbol text)
RETURNS tr_strand LANGUAGE sql AS $$
    SELECT * FROM tr_strand WHERE kind = 'braid' AND symbol = p_symbol
$$;

-- BR-A on paper_a, trend, 1m: predicted 2 bps, slipped 10 bps (20 once).
SELECT pg_temp.execution('BA-' || i, 'BR-A', 'paper_a', 100.10, 2) FROM generate_series(1, 3) i;
SELECT pg_temp.execution('BA-4', 'BR-A', 'paper_a', 100.20, 2);
-- Same symbol, venue and timeframe, other regime: a fifth execution, not of the pattern.
SELECT pg_temp.execution('BA-R', 'BR-A', 'paper_a', 100.10, 2, 'range');
SELECT is(tr_form_braids(clock_timestamp()), 0, 'fewer than braids.min_size executions of a pattern change nothing');
SELECT is((SELECT count(*) FROM tr_strand WHERE kind IN ('braid', 'meta_braid')), 0::bigint,
          'four executions of a pattern, and a fifth in another regime, form no braid');

SELECT pg_temp.execution('BA-5', 'BR-A', 'paper_a', 100.10, 2, 'trend', 2, 1);
SELECT is(tr_form_braids(clock_timestamp()), 1, 'the fifth execution of the pattern forms one braid');
SELECT results_eq($$SELECT kind, symbol, regime, timeframe, session_bucket, route_hint FROM tr_strand WHERE kind IN ('braid', 'meta_braid')$$,
                  $$VALUES ('braid', 'BR-A', 'trend', '1m', NULL::text, 'paper_a')$$,
                  'the braid is a strand carrying its pattern: symbol, regime, timeframe and, as route_hint, the venue');
-- Slippages 10, 10, 10, 20, 10 against 2 predicted; fills 1, 1, 1, 1 and 1 of 2;
-- excesses 8, 8, 8, 8, 18, whose 95th percentile interpolates to 8 + 0.8 x 10.
SELECT is((pg_temp.braid('BR-A')).lesson_metadata->'stats',
          '{"n": 5, "mean_slip_bps": 12, "mean_predicted_slip_bps": 2, "mean_excess_slip_bps": 10,
            "p95_excess_slip_bps": 16, "fill_ratio": 0.9, "mean_latency_ms": 200}'::jsonb,
          'the braid''s statistics: executions, mean slippage, mean prediction and excess, fill ratio, mean latency');
SELECT set_eq($$SELECT member_id FROM tr_braid_members WHERE braid_id = (pg_temp.braid('BR-A')).id$$,
              $$SELECT id FROM tr_strand WHERE kind = 'execution' AND decision_id IN ('BA-1', 'BA-2', 'BA-3', 'BA-4', 'BA-5')$$,
              'the braid''s members are exactly the five executions of the pattern');
SELECT is((pg_temp.braid('BR-A')).lesson_metadata->'lesson'->'conditions',
          '{"symbol": "BR-A", "venue": "paper_a", "regime": "trend", "timeframe": "1m"}'::jsonb,
          'the lesson''s conditions are the pattern: symbol, venue, regime and timeframe');
SELECT is((pg_temp.braid('BR-A')).lesson_metadata->'lesson'->'effects',
          '{"avoid_venue": "paper_a", "confidence_multiplier": 0.9, "size_multiplier": 0.5}'::jsonb,
          'slippage 10 bps over the prediction and 6 times it makes the lesson avoid the venue and trade smaller');
SELECT results_eq($$SELECT l->>'insight', l->>'insight_source' FROM (SELECT (pg_temp.braid('BR-A')).lesson_metadata->'lesson' AS l) x$$,
                  $$VALUES ('BR-A orders in a trend regime on paper_a slipped 12.0 bps on average against 2.0 bps predicted over 5 executions (fill ratio 0.90): route elsewhere and trade smaller there.',
                            'template')$$,
                  'without a hook the insight is the template''s sentence, stating the evidence and the advice');
SELECT results_eq($$SELECT (l->>'active')::boolean, (l->>'expires_at')::timestamptz
                      FROM (SELECT (pg_temp.braid('BR-A')).lesson_metadata->'lesson' AS l) x$$,
                  $$SELECT true, max(e.updated_at) + interval '24 hours'
                      FROM tr_braid_members m JOIN tr_strand e ON e.id = m.member_id WHERE m.braid_id = (pg_temp.braid('BR-A')).id$$,
                  'the lesson is active and expires braids.window after its newest execution');

SELECT is(tr_form_braids(clock_timestamp()), 0, 'rerunning with the same evidence changes nothing');
SELECT is((SELECT count(*) FROM tr_strand WHERE kind = 'braid'), 1::bigint, 'rerunning makes no second braid');

-- Other patterns, each alone on its venue except BR-B, which shares paper_a with BR-A.
SELECT pg_temp.execution('BB-' || i, 'BR-B', 'paper_a', 100.10, 10) FROM generate_series(1, 5) i;  -- 10 bps as predicted
SELECT pg_temp.execution('BC-' || i, 'BR-C', 'paper_b', 100.14, 10) FROM generate_series(1, 5) i;  -- 4 over, but only 1.4 times
SELECT pg_temp.execution('BD-' || i, 'BR-D', 'paper_c', 100.03, 1) FROM generate_series(1, 5) i;   -- 3 times, but only 2 over
SELECT pg_temp.execution('BE-' || i, 'BR-E', 'paper_d', 100.05, 10) FROM generate_series(1, 5) i;  -- 5 under
SELECT is(tr_form_braids(clock_timestamp()), 5, 'four new patterns form four braids, and paper_a''s two symbols a meta-braid');
SELECT is((pg_temp.braid('BR-B')).lesson_metadata->'lesson'->'effects', '{"confidence_multiplier": 1.0}'::jsonb,
          'a braid that slipped as predicted says so: confidence_multiplier 1.0 and nothing else');
SELECT is((pg_temp.braid('BR-C')).lesson_metadata->'lesson'->'effects', '{"confidence_multiplier": 1.0}'::jsonb,
          'slippage more than braids.slip_excess_bps over the prediction, but not 1.5 times it, does not avoid the venue');
SELECT is((pg_temp.braid('BR-D')).lesson_metadata->'lesson'->'effects', '{"confidence_multiplier": 1.0}'::jsonb,
          'slippage 3 times the prediction, but exactly braids.slip_excess_bps over it, does not avoid the venue');
SELECT is((pg_temp.braid('BR-E')).lesson_metadata->'lesson'->'effects', '{"prefer_venue": "paper_d", "confidence_multiplier": 1.05}'::jsonb,
          'slippage more than braids.slip_excess_bps under the prediction makes the lesson prefer the venue');

-- The meta-braid: mean slippage (12 + 10) / 2, prediction (2 + 10) / 2, fill ratio
-- (0.9 + 1) / 2; one braid of two avoids paper_a, not a majority.
SELECT results_eq($$SELECT kind, symbol, route_hint, lesson_metadata->'lesson'->'conditions', lesson_metadata->'lesson'->'effects',
                           lesson_metadata->'stats', (SELECT array_agg(member_id ORDER BY member_id) FROM tr_braid_members WHERE braid_id = s.id)
                      FROM tr_strand s WHERE kind = 'meta_braid'$$,
                  $$SELECT 'meta_braid', NULL::text, 'paper_a', '{"venue": "paper_a"}'::jsonb, '{"confidence_multiplier": 1.0}'::jsonb,
                           '{"n": 10, "braids": 2, "mean_slip_bps": 11, "mean_predicted_slip_bps": 6, "fill_ratio": 0.95}'::jsonb,
                           (SELECT array_agg(id ORDER BY id) FROM tr_strand WHERE kind = 'braid' AND symbol IN ('BR-A', 'BR-B'))$$,
                  'the braids of two symbols on one venue, and only they, form one meta_braid conditioned on the venue alone');
SELECT is((SELECT lesson_metadata->'lesson'->>'insight' FROM tr_strand WHERE kind = 'meta_braid'),
          'All orders on paper_a slipped 11.0 bps on average against 6.0 bps predicted over 10 executions (fill ratio 0.95): as expected.',
          'the meta-braid''s insight speaks of all orders on the venue');

CREATE TEMP TABLE first_braid AS SELECT id FROM tr_strand WHERE kind = 'braid' AND symbol = 'BR-A';
SELECT pg_temp.execution('BA-6', 'BR-A', 'paper_a', 100.10, 2);
SELECT tr_form_braids(clock_timestamp());
SELECT results_eq($$SELECT id, (lesson_metadata->'stats'->>'n')::integer, (SELECT count(*) FROM tr_braid_members WHERE braid_id = s.id)
                      FROM tr_strand s WHERE kind = 'braid' AND symbol = 'BR-A'$$,
                  $$SELECT id, 6, 6::bigint FROM first_braid$$,
                  'a new execution of the pattern refreshes the same braid: 6 executions, 6 members');
-- The meta-braid's evidence is its braids' evidence: when a braid grows, the
-- meta-braid must count the new execution and live as long as its newest braid.
SELECT results_eq($$SELECT (lesson_metadata->'stats'->>'n')::integer, (lesson_metadata->'lesson'->>'expires_at')::timestamptz
                      FROM tr_strand WHERE kind = 'meta_braid'$$,
                  $$SELECT sum((lesson_metadata->'stats'->>'n')::integer)::integer, max((lesson_metadata->'lesson'->>'expires_at')::timestamptz)
                      FROM tr_strand WHERE kind = 'braid' AND route_hint = 'paper_a'$$,
                  'a meta-braid follows its braids: it counts their executions and expires with the newest of them');

-- Hooks. They live in public because the hook name is looked up as a regproc.
CREATE FUNCTION public.test_insight(jsonb) RETURNS text LANGUAGE sql AS $$ SELECT 'hooked insight for ' || ($1->'conditions'->>'symbol') $$;
CREATE FUNCTION public.test_insight_down(jsonb) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'model unavailable'; END $$;
UPDATE tr_settings SET value = 'public.test_insight' WHERE key = 'braids.insight_hook';
SELECT pg_temp.execution('BC-6', 'BR-C', 'paper_b', 100.14, 10);
SELECT is(tr_form_braids(clock_timestamp()), 1, 'a new execution refreshes only its own braid');
SELECT results_eq($$SELECT l->>'insight', l->>'insight_source' FROM (SELECT (pg_temp.braid('BR-C')).lesson_metadata->'lesson' AS l) x$$,
                  $$VALUES ('hooked insight for BR-C', 'public.test_insight')$$,
                  'with braids.insight_hook set, the hook writes the insight from the braid, and the lesson names the hook');
UPDATE tr_settings SET value = 'public.test_insight_down' WHERE key = 'braids.insight_hook';
SELECT pg_temp.execution('BD-6', 'BR-D', 'paper_c', 100.03, 1);
SELECT tr_form_braids(clock_timestamp());
SELECT results_eq($$SELECT l->>'insight', l->>'insight_source' FROM (SELECT (pg_temp.braid('BR-D')).lesson_metadata->'lesson' AS l) x$$,
                  $$VALUES ('BR-D orders in a trend regime on paper_c slipped 3.0 bps on average against 1.0 bps predicted over 6 executions (fill ratio 1.00): as expected.',
                            'template')$$,
                  'a hook that raises does not stop the braid: the template writes the insight instead');

SELECT results_eq($$SELECT kind, conditions->>'symbol', conditions->>'venue', members FROM tr_active_lessons ORDER BY 1, 2$$,
                  $$VALUES ('braid', 'BR-A', 'paper_a', 6::bigint), ('braid', 'BR-B', 'paper_a', 5), ('braid', 'BR-C', 'paper_b', 6),
                           ('braid', 'BR-D', 'paper_c', 6), ('braid', 'BR-E', 'paper_d', 5), ('meta_braid', NULL, 'paper_a', 2)$$,
                  'tr_active_lessons lists every lesson in force with its conditions and members');
-- Readers of a view call its functions (tr_lesson_in_force) with their own rights.
SET LOCAL ROLE tr_worker;
SELECT is((SELECT count(*) FROM tr_active_lessons), 6::bigint, 'the worker reads tr_active_lessons, which it is granted');
RESET ROLE;
SET LOCAL ROLE tr_inspector;
SELECT is((SELECT count(*) FROM tr_active_lessons), 6::bigint, 'the inspector reads tr_active_lessons, which it is granted');
RESET ROLE;

SELECT is(tr_form_braids((SELECT max(updated_at) FROM tr_strand WHERE kind = 'execution') + interval '24 hours 1 second'), 0,
          'past the window, with no recent executions, no braid is formed or refreshed');
SELECT is_empty($$SELECT * FROM tr_active_lessons$$,
                'once the window has passed the newest execution, tr_active_lessons lists none of the lessons');
SELECT is((SELECT count(*) FROM tr_strand WHERE kind IN ('braid', 'meta_braid') AND lesson_metadata->'lesson'->'active' = 'false'),
          6::bigint, 'expired lessons are kept, marked inactive');

-- So that each tr_lesson_effect case depends only on the lessons stated next to it.
DELETE FROM tr_braid_members; DELETE FROM tr_strand WHERE kind IN ('braid', 'meta_braid');
CREATE FUNCTION pg_temp.lesson(p_id text, p_kind text, p_conditions jsonb, p_effects jsonb)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO tr_strand (id, kind, symbol, lesson_metadata, tags)
    VALUES (p_id, p_kind, p_conditions->>'symbol',
            jsonb_build_object('lesson', jsonb_build_object('conditions', p_conditions, 'effects', p_effects, 'insight', p_id)), '{}')
$$;
SELECT pg_temp.lesson('LE-B1', 'braid', '{"symbol": "LE-A", "regime": "trend"}',
                      '{"confidence_multiplier": 0.9, "size_multiplier": 0.5, "avoid_venue": "paper_a"}');
SELECT pg_temp.lesson('LE-B2', 'braid', '{"symbol": "LE-A", "timeframe": "1m"}',
                      '{"confidence_multiplier": 0.8, "size_multiplier": 0.6, "prefer_venue": "paper_b"}');
SELECT pg_temp.lesson('LE-B3', 'braid', '{"symbol": "LE-A", "venue": "paper_c"}', '{"confidence_multiplier": 0.5, "size_multiplier": 0.1}');
SELECT pg_temp.lesson('LE-S', 'braid', '{"symbol": "LE-S"}', '{"confidence_multiplier": 1.05, "size_multiplier": 2}');
SELECT pg_temp.lesson('LE-V', 'braid', '{"symbol": "LE-V", "venue": "paper_c"}', '{"avoid_venue": "paper_c"}');
SELECT pg_temp.lesson('LE-M1', 'meta_braid', '{"venue": "paper_a"}',
                      '{"avoid_venue": "paper_a", "confidence_multiplier": 0.95, "size_multiplier": 0.8}');
-- The effects tr_form_braids writes for a preferred venue (no size_multiplier), and one
-- naming a size only.
SELECT pg_temp.lesson('LE-P', 'braid', '{"symbol": "LE-P"}', '{"prefer_venue": "paper_b", "confidence_multiplier": 1.05}');
SELECT pg_temp.lesson('LE-Q', 'braid', '{"symbol": "LE-Q"}', '{"size_multiplier": 0.5}');

-- The effect at one venue, as the only venue the order could go to.
CREATE FUNCTION pg_temp.effect(p_symbol text, p_venue text)
RETURNS TABLE (lessons jsonb, confidence numeric, size numeric, avoid boolean, prefer boolean) LANGUAGE sql AS $$
    SELECT e->'lessons', (e->>'confidence_multiplier')::numeric, (e->>'size_multiplier')::numeric,
           (e->>'avoid')::boolean, (e->>'prefer')::boolean
      FROM tr_lesson_effect(p_symbol, 'trend', '1m', NULL, ARRAY[p_venue]) AS x(venue, e)
$$;

SELECT results_eq($$SELECT * FROM pg_temp.effect('LE-A', 'paper_a')$$,
                  $$VALUES ('["LE-B1", "LE-B2"]'::jsonb, 0.72, 0.3, true, false)$$,
                  'braids that apply win over the venue''s meta-braid; their multipliers multiply exactly, and one avoids this venue');
SELECT results_eq($$SELECT * FROM pg_temp.effect('LE-A', 'paper_c')$$,
                  $$VALUES ('["LE-B1", "LE-B2", "LE-B3"]'::jsonb, 0.36, 0.03, false, false)$$,
                  'a lesson conditioned on a venue applies at that venue (and, above, not at another)');
SELECT results_eq($$SELECT * FROM pg_temp.effect('LE-Z', 'paper_a')$$,
                  $$VALUES ('["LE-M1"]'::jsonb, 0.95, 0.8, true, false)$$,
                  'with no braid applying, the venue''s meta-braid is the fallback');
SELECT results_eq($$SELECT * FROM pg_temp.effect('LE-V', 'paper_a')$$,
                  $$VALUES ('["LE-M1"]'::jsonb, 0.95, 0.8, true, false)$$,
                  'a braid for another venue does not displace the meta-braid fallback at this one');
SELECT results_eq($$SELECT * FROM pg_temp.effect('LE-Z', 'paper_b')$$,
                  $$VALUES ('[]'::jsonb, 1::numeric, 1::numeric, false, false)$$,
                  'a meta-braid applies only at its venue, and with no lesson the effect is neutral');
SELECT results_eq($$SELECT * FROM pg_temp.effect('LE-S', 'paper_b')$$,
                  $$VALUES ('["LE-S"]'::jsonb, 1.05, 1::numeric, false, false)$$,
                  'lessons never make an order larger: the size multiplier is at most 1');
SELECT results_eq($$SELECT * FROM pg_temp.effect('LE-P', 'paper_b')$$,
                  $$VALUES ('["LE-P"]'::jsonb, 1.05, 1::numeric, false, true)$$,
                  'a lesson that names no size_multiplier leaves the order''s size alone');
SELECT results_eq($$SELECT * FROM pg_temp.effect('LE-Q', 'paper_b')$$,
                  $$VALUES ('["LE-Q"]'::jsonb, 1::numeric, 0.5, false, false)$$,
                  'a lesson that names no confidence_multiplier leaves the confidence alone');

SELECT * FROM finish();
ROLLBACK;
