-- Curation context: the lessons that match a decision, the one JSON context per work
-- item that the worker's curators score (with the lessons' effect at each venue, the
-- touch price and whether the order increases the position, all decided here), and
-- the registration of plug-in curators.
BEGIN;
SELECT plan(44);

DELETE FROM tr_inbox; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;
DELETE FROM tr_execution_performance; DELETE FROM tr_risk_state;
-- The context lists every weight row and every enabled venue, so both start from
-- rows whose values this file states.
DELETE FROM tr_curator_weights; DELETE FROM tr_venues;

-- Lessons. Each excluded one (L-X-*) differs from a matching one in one respect only,
-- so a wrong filter shows up as exactly that lesson appearing. Expiry is relative to
-- now(), so that the context (which matches at clock_timestamp(), later) sees the same.
CREATE FUNCTION pg_temp.lesson(p_id text, p_kind text, p_lesson jsonb)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO tr_strand (id, kind, symbol, lesson_metadata, tags)
    VALUES (p_id, p_kind, p_lesson->'conditions'->>'symbol', jsonb_build_object('lesson', p_lesson), '{}')
$$;
SELECT pg_temp.lesson('L-ALL', 'braid', '{"conditions": {"symbol": "CC-A", "regime": "trend", "timeframe": "1m", "session_bucket": "us_open"},
                                          "effects": {"score_boost": 0.1}, "insight": "trend opens fill well"}');
SELECT pg_temp.lesson('L-VENUE', 'braid', '{"conditions": {"symbol": "CC-A", "regime": "trend", "venue": "paper_b"},
                                            "effects": {"size_multiplier": 0.5}, "insight": "paper_b slips in trends"}');
-- At equal specificity the meta-braid's id sorts first, so only the kind can put the braid ahead.
SELECT pg_temp.lesson('L-A-META2', 'meta_braid', '{"conditions": {"regime": "trend", "session_bucket": "us_open"}, "effects": {}, "insight": "m"}');
SELECT pg_temp.lesson('L-B-BRAID2', 'braid', '{"conditions": {"symbol": "CC-A", "timeframe": "1m"}, "effects": {}, "insight": "b"}');
SELECT pg_temp.lesson('L-FUTURE', 'braid', jsonb_build_object('conditions', '{"symbol": "CC-A"}'::jsonb, 'effects', '{}'::jsonb,
                                                              'insight', 'f', 'expires_at', now() + interval '1 day', 'active', true));
SELECT pg_temp.lesson('L-NONE', 'meta_braid', '{"conditions": {}, "effects": {}, "insight": "always"}');
SELECT pg_temp.lesson('L-X-OTHER-SYM', 'braid', '{"conditions": {"symbol": "CC-B"}, "effects": {}, "insight": "x"}');
SELECT pg_temp.lesson('L-X-REGIME', 'braid', '{"conditions": {"symbol": "CC-A", "regime": "range"}, "effects": {}, "insight": "x"}');
SELECT pg_temp.lesson('L-X-TF', 'braid', '{"conditions": {"symbol": "CC-A", "timeframe": "5m"}, "effects": {}, "insight": "x"}');
SELECT pg_temp.lesson('L-X-SESS', 'braid', '{"conditions": {"symbol": "CC-A", "session_bucket": "asia"}, "effects": {}, "insight": "x"}');
SELECT pg_temp.lesson('L-X-EXPIRED', 'braid', jsonb_build_object('conditions', '{"symbol": "CC-A"}'::jsonb, 'effects', '{}'::jsonb,
                                                                 'insight', 'x', 'expires_at', now()));
SELECT pg_temp.lesson('L-X-INACTIVE', 'braid', '{"conditions": {"symbol": "CC-A"}, "effects": {}, "insight": "x", "active": false}');
SELECT pg_temp.lesson('L-X-KIND', 'monitoring', '{"conditions": {"symbol": "CC-A"}, "effects": {}, "insight": "x"}');
INSERT INTO tr_strand (id, kind, symbol, lesson_metadata, tags)
VALUES ('L-X-NOLESSON', 'braid', 'CC-A', '{"lessons_applied": [], "confidence_boost": 1.0}', '{}');

CREATE FUNCTION pg_temp.matched(p_regime text DEFAULT 'trend', p_now timestamptz DEFAULT now())
RETURNS text[] LANGUAGE sql AS $$
    SELECT array_agg(lesson_id) FROM tr_match_lessons('CC-A', p_regime, '1m', 'us_open', p_now)
$$;

SELECT is(pg_temp.matched(), ARRAY['L-ALL', 'L-VENUE', 'L-B-BRAID2', 'L-A-META2', 'L-FUTURE', 'L-NONE'],
          'the lessons whose conditions all hold come most specific first, a braid before a meta-braid of equal specificity');
SELECT results_eq($$SELECT lesson_id, kind, conditions, effects, insight, specificity
                      FROM tr_match_lessons('CC-A', 'trend', '1m', 'us_open', now()) WHERE lesson_id = 'L-VENUE'$$,
                  $$VALUES ('L-VENUE', 'braid', '{"symbol": "CC-A", "regime": "trend", "venue": "paper_b"}'::jsonb,
                            '{"size_multiplier": 0.5}'::jsonb, 'paper_b slips in trends', 3)$$,
                  'a venue condition does not filter: the lesson comes back with it, its effects and insight, for the worker to apply');
SELECT ok(NOT 'L-X-OTHER-SYM' = ANY (pg_temp.matched()), 'a lesson for another symbol is not returned');
SELECT ok(NOT 'L-X-REGIME' = ANY (pg_temp.matched()), 'a lesson for another regime is not returned');
SELECT ok(NOT 'L-X-TF' = ANY (pg_temp.matched()), 'a lesson for another timeframe is not returned');
SELECT ok(NOT 'L-X-SESS' = ANY (pg_temp.matched()), 'a lesson for another session bucket is not returned');
SELECT ok(NOT 'L-X-EXPIRED' = ANY (pg_temp.matched()), 'a lesson that expires at the matching time is no longer returned');
SELECT ok('L-X-EXPIRED' = ANY (pg_temp.matched('trend', now() - interval '1 second')),
          'the same lesson is returned when matching before it expires');
SELECT ok(NOT 'L-X-INACTIVE' = ANY (pg_temp.matched()), 'a lesson marked active false is not returned');
SELECT ok(NOT 'L-X-KIND' = ANY (pg_temp.matched()) AND NOT 'L-X-NOLESSON' = ANY (pg_temp.matched()),
          'only braid and meta_braid strands holding a lesson object are lessons');
SELECT is(pg_temp.matched(NULL), ARRAY['L-B-BRAID2', 'L-FUTURE', 'L-NONE'],
          'a decision naming no regime matches no lesson conditioned on one');

-- Work items, and the state their context is made of.
INSERT INTO tr_inbox (id, source, source_id, lifecycle_id, symbol, regime, timeframe, session_bucket, signal_strength, order_spec) VALUES
    ('CO-1', 'decision', 'CO-1', 'LC-1', 'CC-A', 'trend', '1m', 'us_open', 0.8, '{"side": "buy", "qty": 1, "venue": "paper_a"}'),
    ('CO-2', 'decision', 'CO-2', NULL, 'CC-B', 'range', '5m', 'asia', 0.3, '{"side": "sell", "qty": 2}');

-- The fills come before the quotes so that CC-A is re-marked by a quote, while CC-Z
-- (no quote) stays marked at its fill: gross exposure must use the mark, not the average.
SELECT tr_apply_fill('CC-A', 'buy', 2, 100);
SELECT tr_apply_fill('CC-Z', 'sell', 3, 50);
INSERT INTO md_strand (symbol, tags, market_data) VALUES
    ('CC-A', ARRAY['tr:market_update'], '{"bid": 100, "ask": 100.5, "ts": "2026-01-01T00:00:00Z"}'),
    ('CC-A', ARRAY['tr:market_update'], '{"bid": 101, "ask": 102, "last": 101.4, "ts": "2026-01-01T00:00:01Z"}'),
    ('CC-A', ARRAY['tr:market_update'], '{"bid": 90, "ask": 91, "ts": "2025-12-31T23:59:59Z"}');

INSERT INTO rm_strand (tags, risk_update) VALUES
    (ARRAY['tr:risk_update'], '{"scope": "global", "max_order_qty": 10}'),
    (ARRAY['tr:risk_update'], '{"scope": "CC-A", "trading_state": "reducing", "max_order_qty": 5, "max_position_qty": 20}');

INSERT INTO tr_curator_weights (curator_type, weight, confidence, lesson_adjustments) VALUES
    ('execution_curator', 1.0, 0.5, '{}'), ('venue_curator', 1.0, 0.5, '{}');
UPDATE tr_curator_weights SET weight = 1.25, confidence = 0.9 WHERE curator_type = 'execution_curator';

INSERT INTO tr_venues (name, adapter, params) VALUES
    ('paper_a', 'paper', '{"fee_bps": 2}'), ('paper_b', 'paper', '{"fee_bps": 6}');
-- Inserted out of time order, so that only created_at can tell which are the newest.
INSERT INTO tr_execution_performance (execution_id, venue, symbol, execution_score, slippage_bps, latency_ms, created_at) VALUES
    ('E-MID', 'paper_a', 'CC-A', 0.8, 4, 50, '2026-01-01 00:01:00+00'),
    ('E-NEW', 'paper_a', 'CC-A', 0.9, 2, 30, '2026-01-01 00:02:00+00'),
    ('E-OLD', 'paper_a', 'CC-A', 0.5, 10, 100, '2026-01-01 00:00:00+00'),
    ('E-B',   'paper_a', 'CC-B', 0.1, 40, 900, '2026-01-01 00:00:00+00');

CREATE TEMP TABLE ctx AS SELECT * FROM tr_curation_context(ARRAY['CO-1', 'NOPE', 'CO-2']);

SELECT results_eq($$SELECT order_id, context->'order'->>'id' FROM ctx ORDER BY 1$$,
                  $$VALUES ('CO-1', 'CO-1'), ('CO-2', 'CO-2')$$,
                  'the context has one row per work item named, and none for an unknown id');
SELECT is((SELECT context->'order' FROM ctx WHERE order_id = 'CO-1'),
          '{"id": "CO-1", "source": "decision", "symbol": "CC-A", "lifecycle_id": "LC-1", "regime": "trend", "timeframe": "1m",
            "session_bucket": "us_open", "signal_strength": 0.8,
            "spec": {"side": "buy", "qty": 1, "venue": "paper_a", "order_type": "market", "reduce_only": false}}'::jsonb,
          'the order carries the decision''s symbol, regime, timeframe, session bucket, signal strength and its order as the intake typed it, defaults filled in');
SELECT is((SELECT context->'quote' FROM ctx WHERE order_id = 'CO-1'),
          jsonb_build_object('bid', 101, 'ask', 102, 'last', 101.4, 'mark', 101.5, 'ts', '2026-01-01T00:00:01Z'::timestamptz),
          'the quote is the latest applied one for the symbol (a stale quote inserted later does not replace it)');
SELECT is((SELECT context->'position' FROM ctx WHERE order_id = 'CO-1'),
          '{"quantity": 2, "avg_price": 100, "mark_price": 101.5}'::jsonb,
          'the position in the order''s symbol is given with its quantity, average and mark');
SELECT results_eq($$SELECT context->'quote', context->'position' FROM ctx WHERE order_id = 'CO-2'$$,
                  $$VALUES ('null'::jsonb, 'null'::jsonb)$$,
                  'a symbol without a quote or a position gets null for each');
SELECT results_eq($$SELECT order_id, (context->>'gross_exposure')::numeric FROM ctx ORDER BY 1$$,
                  $$VALUES ('CO-1', 353::numeric), ('CO-2', 353::numeric)$$,
                  'gross exposure is the sum over all positions of |quantity x mark| (2 x 101.5 + 3 x 50), the same for every order');
SELECT results_eq($$SELECT order_id, context->'risk' FROM ctx ORDER BY 1$$,
                  $$VALUES ('CO-1', '{"trading_state": "reducing", "max_position_qty": 20, "max_order_qty": 5, "max_order_notional": null}'::jsonb),
                           ('CO-2', '{"trading_state": "active", "max_position_qty": null, "max_order_qty": 10, "max_order_notional": null}'::jsonb)$$,
                  'risk is the effective risk of each order''s symbol: the stricter of its own scope and the global one');
SELECT is((SELECT context->'weights' FROM ctx WHERE order_id = 'CO-1'),
          '{"execution_curator": {"weight": 1.25, "confidence": 0.9}, "venue_curator": {"weight": 1, "confidence": 0.5}}'::jsonb,
          'weights list every curator with its current weight and confidence, updates included');
SELECT is((SELECT jsonb_agg(v - 'lesson_effect' ORDER BY i) FROM ctx, jsonb_array_elements(context->'venues') WITH ORDINALITY AS e(v, i)
             WHERE order_id = 'CO-1'),
          '[{"name": "paper_a", "adapter": "paper", "params": {"fee_bps": 2},
             "quality": {"n": 3, "mean_slip_bps": 5.3333, "mean_latency_ms": 60.0, "mean_score": 0.7333}},
            {"name": "paper_b", "adapter": "paper", "params": {"fee_bps": 6},
             "quality": {"n": 0, "mean_slip_bps": null, "mean_latency_ms": null, "mean_score": null}}]'::jsonb,
          'each enabled venue comes with its params and its recent quality for the order''s symbol (n 0 without executions)');
SELECT is((SELECT context->'venues'->0->'quality' FROM ctx WHERE order_id = 'CO-2'),
          '{"n": 1, "mean_slip_bps": 40, "mean_latency_ms": 900, "mean_score": 0.1}'::jsonb,
          'venue quality counts only executions in the order''s own symbol');
SELECT is((SELECT array_agg(l->>'lesson_id' ORDER BY i) FROM ctx, jsonb_array_elements(context->'lessons') WITH ORDINALITY AS e(l, i)
            WHERE order_id = 'CO-1'),
          ARRAY['L-ALL', 'L-VENUE', 'L-B-BRAID2', 'L-A-META2', 'L-FUTURE', 'L-NONE'],
          'the lessons are those matching the order''s symbol, regime, timeframe and session bucket, in match order');
SELECT is((SELECT context->'lessons' FROM ctx WHERE order_id = 'CO-2'),
          '[{"lesson_id": "L-X-OTHER-SYM", "kind": "braid", "conditions": {"symbol": "CC-B"}, "effects": {}, "insight": "x", "specificity": 1},
            {"lesson_id": "L-NONE", "kind": "meta_braid", "conditions": {}, "effects": {}, "insight": "always", "specificity": 0}]'::jsonb,
          'each lesson reaches the worker with its id, kind, conditions, effects, insight and specificity');

SELECT is((SELECT jsonb_object_agg(v->>'name', v->'lesson_effect') FROM ctx, jsonb_array_elements(context->'venues') v
            WHERE order_id = 'CO-1'),
          '{"paper_a": {"lessons": [], "confidence_multiplier": 1, "size_multiplier": 1, "avoid": false, "prefer": false},
            "paper_b": {"lessons": ["L-VENUE"], "confidence_multiplier": 1, "size_multiplier": 0.5, "avoid": false, "prefer": false}}'::jsonb,
          'each venue carries the lessons'' effect there: L-VENUE halves the size at paper_b only, and lessons without multipliers change nothing');
SELECT results_eq($$SELECT order_id, (context->>'touch')::numeric, (context->>'increases_position')::boolean FROM ctx ORDER BY 1$$,
                  $$VALUES ('CO-1', 102::numeric, true), ('CO-2', NULL, true)$$,
                  'the touch price is the ask for a buy (none without a quote), and buying onto a long or selling from flat increases the position');
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES
    ('CO-3', 'decision', 'CO-3', 'CC-A', '{"side": "sell", "qty": "1"}'),
    ('CO-4', 'decision', 'CO-4', 'CC-A', '{"side": "sell", "qty": "3"}');
SELECT results_eq($$SELECT order_id, (context->>'touch')::numeric, (context->>'increases_position')::boolean
                      FROM tr_curation_context(ARRAY['CO-3', 'CO-4']) ORDER BY 1$$,
                  $$VALUES ('CO-3', 101::numeric, false), ('CO-4', 101::numeric, true)$$,
                  'a sell meets the bid; selling part of a long reduces it, selling past it flips it and so increases the position');

-- The lessons' effect, one case per symbol, each order free to go to either venue
-- unless its spec names one.
CREATE FUNCTION pg_temp.lesson(p_id text, p_kind text, p_conditions jsonb, p_effects jsonb)
RETURNS void LANGUAGE sql AS $$
    SELECT pg_temp.lesson(p_id, p_kind, jsonb_build_object('conditions', p_conditions, 'effects', p_effects, 'insight', p_id))
$$;
SELECT pg_temp.lesson('E-HI', 'braid', '{"symbol": "CE-HI"}', '{"confidence_multiplier": 10, "size_multiplier": 3}');
SELECT pg_temp.lesson('E-LO1', 'braid', '{"symbol": "CE-LO"}', '{"confidence_multiplier": 0.1}');
SELECT pg_temp.lesson('E-LO2', 'braid', '{"symbol": "CE-LO", "regime": "calm"}', '{"confidence_multiplier": 0.5, "size_multiplier": 0.3}');
SELECT pg_temp.lesson('E-V', 'braid', '{"symbol": "CE-V", "venue": "paper_b"}',
                      '{"confidence_multiplier": 0.9, "size_multiplier": 0.5, "avoid_venue": "paper_b"}');
SELECT pg_temp.lesson('E-M', 'meta_braid', '{"regime": "meta", "venue": "paper_a"}', '{"confidence_multiplier": 0.8, "prefer_venue": "paper_a"}');
SELECT pg_temp.lesson('E-MB', 'braid', '{"symbol": "CE-M", "venue": "paper_b"}', '{"confidence_multiplier": 1.0}');
SELECT pg_temp.lesson('E-S', 'braid', '{"symbol": "CE-S"}', '{"avoid_venue": "paper_b"}');
INSERT INTO tr_inbox (id, source, source_id, symbol, regime, order_spec)
SELECT id, 'decision', id, coalesce(symbol, id), regime, jsonb_strip_nulls(jsonb_build_object('side', 'buy', 'qty', 1, 'venue', venue))
  FROM (VALUES ('CE-HI', NULL, 'calm', NULL), ('CE-LO', NULL, 'calm', NULL), ('CE-V', NULL, 'calm', NULL),
               ('CE-M', NULL, 'meta', NULL), ('CE-S', NULL, 'calm', NULL), ('CE-S-A', 'CE-S', 'calm', 'paper_a')) o(id, symbol, regime, venue);
CREATE TEMP TABLE effect AS
SELECT c.order_id, v->>'name' AS venue, v->'lesson_effect'->'lessons' AS lessons,
       (v->'lesson_effect'->>'confidence_multiplier')::numeric AS confidence, (v->'lesson_effect'->>'size_multiplier')::numeric AS size,
       (v->'lesson_effect'->>'avoid')::boolean AS avoid, (v->'lesson_effect'->>'prefer')::boolean AS prefer
  FROM tr_curation_context(ARRAY['CE-HI', 'CE-LO', 'CE-V', 'CE-M', 'CE-S', 'CE-S-A']) c, jsonb_array_elements(c.context->'venues') v;

SELECT results_eq($$SELECT venue, lessons, confidence, size FROM effect WHERE order_id = 'CE-HI' ORDER BY 1$$,
                  $$VALUES ('paper_a', '["E-HI"]'::jsonb, 2.0, 1::numeric), ('paper_b', '["E-HI"]'::jsonb, 2.0, 1::numeric)$$,
                  'a confidence multiplier of 10 is held at 2.0, and a size multiplier of 3 at 1: lessons never make an order larger');
SELECT results_eq($$SELECT venue, lessons, confidence, size FROM effect WHERE order_id = 'CE-LO' ORDER BY 1$$,
                  $$VALUES ('paper_a', '["E-LO2", "E-LO1"]'::jsonb, 0.25, 0.3), ('paper_b', '["E-LO2", "E-LO1"]'::jsonb, 0.25, 0.3)$$,
                  'multipliers multiply (0.1 x 0.5 = 0.05, held at 0.25; size 0.3 exactly), and the lessons are listed most specific first');
SELECT results_eq($$SELECT venue, lessons, confidence, size, avoid, prefer FROM effect WHERE order_id = 'CE-V' ORDER BY 1$$,
                  $$VALUES ('paper_a', '["E-V"]'::jsonb, 1::numeric, 1::numeric, false, false),
                           ('paper_b', '["E-V"]'::jsonb, 0.9, 0.5, true, false)$$,
                  'a lesson conditioned on paper_b acts only there, and counts as applied at paper_a too because it steered the order away from paper_b');
SELECT results_eq($$SELECT venue, lessons, confidence, prefer FROM effect WHERE order_id = 'CE-M' ORDER BY 1$$,
                  $$VALUES ('paper_a', '["E-M"]'::jsonb, 0.8, true), ('paper_b', '["E-M"]'::jsonb, 1::numeric, false)$$,
                  'braids before meta-braids: the meta-braid acts at paper_a, where no braid applies, but not at paper_b, where a braid does (one whose multiplier of 1 changes nothing and is not listed)');
SELECT results_eq($$SELECT order_id, venue, lessons, avoid FROM effect WHERE order_id LIKE 'CE-S%' ORDER BY 1, 2$$,
                  $$VALUES ('CE-S', 'paper_a', '["E-S"]'::jsonb, false), ('CE-S', 'paper_b', '["E-S"]'::jsonb, true),
                           ('CE-S-A', 'paper_a', '[]'::jsonb, false), ('CE-S-A', 'paper_b', '[]'::jsonb, true)$$,
                  'a lesson avoiding a venue is applied wherever the order goes when it could have gone there, and not at all for an order that names another venue');
SELECT is((SELECT lesson_effect FROM tr_lesson_effect('CE-V', 'calm', NULL, NULL, ARRAY['paper_b', NULL, 'paper_b']) e),
          '{"lessons": ["E-V"], "confidence_multiplier": 0.9, "size_multiplier": 0.5, "avoid": true, "prefer": false}'::jsonb,
          'tr_lesson_effect gives one effect per venue named, whatever the repeats and NULLs');

-- A small window must keep the newest executions, not the first inserted.
UPDATE tr_settings SET value = '2' WHERE key = 'curation.quality_window';
SELECT is((SELECT context->'venues'->0->'quality' FROM tr_curation_context(ARRAY['CO-1'])),
          '{"n": 2, "mean_slip_bps": 3, "mean_latency_ms": 40, "mean_score": 0.85}'::jsonb,
          'venue quality uses only the curation.quality_window most recent executions');

UPDATE tr_venues SET enabled = false WHERE name = 'paper_b';
SELECT is((SELECT jsonb_path_query_array(context->'venues', '$[*].name') FROM tr_curation_context(ARRAY['CO-1'])),
          '["paper_a"]'::jsonb, 'a disabled venue is left out of the context');

-- Registration of plug-in curators.
SELECT tr_register_curator('plugin_curator');
SELECT results_eq($$SELECT weight, confidence FROM tr_curator_weights WHERE curator_type = 'plugin_curator'$$,
                  $$VALUES (1::numeric, 0.5::numeric)$$, 'a new curator gets a weight row with weight 1 and confidence 0.5');
SELECT tr_register_curator('execution_curator');
SELECT results_eq($$SELECT weight, confidence FROM tr_curator_weights WHERE curator_type = 'execution_curator'$$,
                  $$VALUES (1.25::numeric, 0.9::numeric)$$, 'registering a known curator again keeps its learned weight');
SELECT throws_ok($$SELECT tr_register_curator('Plugin-Curator')$$, '22023',
                 'curator name ''Plugin-Curator'' is not a lower-case identifier', 'a curator name must be a lower-case identifier');
SELECT throws_ok($$SELECT tr_register_curator(NULL)$$, '22023', NULL, 'a curator needs a name');

-- Privileges: the worker calls these; a peer module reads no context.
SET LOCAL ROLE tr_worker;
SELECT results_eq($$SELECT order_id FROM tr_curation_context(ARRAY['CO-1'])$$, ARRAY['CO-1'],
                  'the worker can read the curation context');
SELECT lives_ok($$SELECT tr_register_curator('worker_plugin')$$, 'the worker can register a plug-in curator');
SELECT is((SELECT lesson_effect->'confidence_multiplier' FROM tr_lesson_effect('CE-HI', NULL, NULL, NULL, ARRAY['paper_a'])),
          '2.0'::jsonb, 'the worker can call tr_lesson_effect, which reads the lessons with its owner''s rights');
RESET ROLE;
SET LOCAL ROLE tr_inspector;
SELECT throws_ok($$SELECT * FROM tr_lesson_effect('CE-HI', NULL, NULL, NULL, ARRAY['paper_a'])$$, '42501', NULL,
                 'tr_lesson_effect is the worker''s: the inspector is not granted it');
RESET ROLE;
SELECT is((SELECT count(*) FROM tr_curator_weights WHERE curator_type = 'worker_plugin'), 1::bigint,
          'a curator registered by the worker has its weight row');
SET ROLE md_module;
SELECT throws_ok($$SELECT * FROM tr_curation_context(ARRAY['CO-1'])$$, '42501', NULL, 'Market Data cannot read the curation context');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
