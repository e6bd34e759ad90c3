-- Curator learning: how close each curator's predictions came to an execution's
-- outcome and how much of the decision was its, then the batch that turns that
-- record into weights within their bounds and averaging 1, with their history,
-- lessons and leaderboard.
BEGIN;
SELECT plan(40);

DELETE FROM tr_braid_members; DELETE FROM tr_curator_weight_history; DELETE FROM tr_curator_performance;
DELETE FROM tr_execution_performance; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;
DELETE FROM tr_inbox;
-- Normalization averages over every weight row, so the expected weights below hold
-- only for the three seeded curators, starting equal, under these settings.
DELETE FROM tr_curator_weights WHERE curator_type NOT IN ('execution_curator', 'venue_curator', 'risk_curator');
UPDATE tr_curator_weights SET weight = 1, confidence = 0.5, lesson_adjustments = '{}';
UPDATE tr_settings SET value = '1.0' WHERE key = 'weights.learning_rate';
UPDATE tr_settings SET value = '0.2' WHERE key = 'weights.floor';
UPDATE tr_settings SET value = '3.0' WHERE key = 'weights.cap';
UPDATE tr_settings SET value = '50' WHERE key = 'weights.evidence_scale';
-- Every weight update re-creates its scratch table, and says so each time.
SET LOCAL client_min_messages = warning;

-- Each prediction alone first, so that a wrong term of the mean shows up by itself.
SELECT is(tr_prediction_accuracy('{"fill_prob": 0.9}', 0, '{"fill_ratio": 0.5}', 0), 0.6000,
          'a fill probability scores 1 - |predicted - filled share|: 0.9 predicted, half filled, 0.6');
SELECT is(tr_prediction_accuracy('{"slip_bps": 5}', 0, '{"slip_bps": 15}', 0), 0.5000,
          'a slippage prediction 10 bps too low scores 0.5');
SELECT is(tr_prediction_accuracy('{"slip_bps": 20}', 0, '{"slip_bps": 10}', 0), 0.5000,
          'a slippage prediction 10 bps too high scores the same 0.5');
SELECT is(tr_prediction_accuracy('{"latency_ms": 10}', 0, '{"latency_ms": 110}', 0), 0.5000,
          'a latency prediction 100 ms off scores 0.5');
-- The score and execution_score would give 0.2 here, so only the mean can give 0.7.
SELECT is(tr_prediction_accuracy('{"fill_prob": 0.9, "slip_bps": 5, "latency_ms": 110}', 0.1,
                                 '{"fill_ratio": 0.5, "slip_bps": 15, "latency_ms": 110}', 0.9), 0.7000,
          'several predictions score their mean (0.6, 0.5 and 1 give 0.7), and the score is then not used');
SELECT is(tr_prediction_accuracy('{"fill_prob": 1, "latency_ms": 10}', 0, '{"fill_ratio": 1, "slip_bps": 4, "latency_ms": null}', 0), 1.0000,
          'a prediction whose outcome was not measured is left out of the mean');
SELECT is(tr_prediction_accuracy(NULL, 0.7, '{"fill_ratio": 1, "slip_bps": 4, "latency_ms": 10}', 0.9), 0.8000,
          'a curator without predictions scores 1 - |score - execution_score|');
SELECT is(tr_prediction_accuracy('{"limit_usage": 0}', 1, '{"fill_ratio": 1, "slip_bps": 4, "latency_ms": 10}', 0.25), 0.2500,
          'a curator predicting none of fill_prob, slip_bps and latency_ms is also scored by its score');

-- A final report: 3 of 4 filled at 100.10 against a reference of 100 (10 bps of
-- cost), 110 ms after submission, the rest cancelled. Its execution_score is
-- 0.5 x (1 - 10/50) + 0.2 x (1 - 110/5000) + 0.3 x 0.75 = 0.8206.
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES
    ('CL-1', 'decision', 'CL-1', 'CL-A', '{"side": "buy", "qty": 4, "ref_px": 100}'),
    ('CL-2', 'decision', 'CL-2', 'CL-A', '{"side": "buy", "qty": 1, "ref_px": 100}');
CREATE TEMP TABLE cl_report AS SELECT
    '{"status": "cancelled", "venue": "paper_a", "submitted_at": "2026-01-01T00:00:00Z",
      "fills": [{"fill_id": "CL-1-1", "px": "100.10", "qty": 3, "ts": "2026-01-01T00:00:00.110Z"}],
      "lesson_metadata": {"curators": {
          "execution_curator": {"score": 0.8, "weight": 1, "predictions": {"fill_prob": 1, "slip_bps": 5, "latency_ms": 10}},
          "venue_curator": {"score": 0.6, "weight": 2, "predictions": {"fill_prob": 0.5, "slip_bps": 12}},
          "risk_curator": {"score": 1, "weight": 1, "predictions": {"limit_usage": 0}}}}}'::jsonb AS r;
SELECT tr_report_execution('CL-1', (SELECT r FROM cl_report));

-- contribution = weight x score / (1 x 0.8 + 2 x 0.6 + 1 x 1 = 3);
-- execution_curator: (0.75 + 1/1.5 + 0.5) / 3; venue_curator: (0.75 + 1/1.2) / 2;
-- risk_curator: 1 - |1 - 0.8206|.
CREATE TEMP VIEW cl_scored AS
SELECT p.curator_type, p.contribution_score, p.accuracy_score
  FROM tr_curator_performance p JOIN tr_strand s ON s.id = p.execution_id
 WHERE s.kind = 'execution' AND s.decision_id = 'CL-1';
SELECT results_eq($$SELECT * FROM cl_scored ORDER BY 1$$,
                  $$VALUES ('execution_curator', 0.2667, 0.6389), ('risk_curator', 0.3333, 0.8206), ('venue_curator', 0.4000, 0.7917)$$,
                  'a final report scores each of its curators once: its share of weight x score, and how close its predictions came');
SELECT is((SELECT learning_metadata->'outcome' FROM tr_curator_performance WHERE curator_type = 'execution_curator'),
          '{"fill_ratio": 0.75, "slip_bps": 10, "latency_ms": 110}'::jsonb,
          'each score keeps the outcome it was measured against');
SELECT tr_report_execution('CL-1', (SELECT r FROM cl_report));
SELECT results_eq($$SELECT * FROM cl_scored ORDER BY 1$$,
                  $$VALUES ('execution_curator', 0.2667, 0.6389), ('risk_curator', 0.3333, 0.8206), ('venue_curator', 0.4000, 0.7917)$$,
                  'a replayed report adds no performance rows and changes none');
SELECT tr_report_execution('CL-2', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "CL-2-1", "px": 100, "qty": 1}],
                                     "lesson_metadata": {"lessons_applied": []}}');
SELECT is((SELECT count(*) FROM tr_curator_performance), 3::bigint,
          'an execution whose lesson_metadata names no curators scores nobody');

-- With learning_rate 1, exp(accuracy - 0.5) gives 1.1490, 1.3387 and 1.3780, whose
-- mean 1.2886 they are then divided by.
SELECT is(tr_update_curator_weights('2026-02-01 00:00:00+00'), 3, 'the update returns how many curators had new evidence');
SELECT results_eq($$SELECT curator_type, weight FROM tr_curator_weights ORDER BY 1$$,
                  $$VALUES ('execution_curator', 0.8917), ('risk_curator', 1.0694), ('venue_curator', 1.0389)$$,
                  'each weight moves by exp(learning_rate x (mean accuracy - 0.5)), then all are divided by their mean');
SELECT ok((SELECT weight FROM tr_curator_weights WHERE curator_type = 'venue_curator')
          > (SELECT weight FROM tr_curator_weights WHERE curator_type = 'execution_curator'),
          'the curator whose predictions came closer (venue, 0.79) now outweighs the one that missed more (execution, 0.64)');
SELECT is((SELECT avg(weight) FROM tr_curator_weights), 1::numeric, 'after an update the weights average 1');
SELECT results_eq($$SELECT curator_type, confidence FROM tr_curator_weights ORDER BY 1$$,
                  $$VALUES ('execution_curator', 0.0198), ('risk_curator', 0.0198), ('venue_curator', 0.0198)$$,
                  'confidence is 1 - exp(-rows weighed / weights.evidence_scale): 0.0198 after one execution');
SELECT results_eq($$SELECT weighed_at, count(*) FROM tr_curator_performance GROUP BY 1$$,
                  $$VALUES ('2026-02-01 00:00:00+00'::timestamptz, 3::bigint)$$,
                  'every performance row the update counted is stamped with its time');
SELECT results_eq($$SELECT curator_type, weight, confidence, mean_accuracy, rows_weighed, lesson_adjustments, created_at
                      FROM tr_curator_weight_history ORDER BY 1$$,
                  $$VALUES ('execution_curator', 0.8917, 0.0198, 0.6389, 1, '{}'::jsonb, '2026-02-01 00:00:00+00'::timestamptz),
                           ('risk_curator', 1.0694, 0.0198, 0.8206, 1, '{}'::jsonb, '2026-02-01 00:00:00+00'::timestamptz),
                           ('venue_curator', 1.0389, 0.0198, 0.7917, 1, '{}'::jsonb, '2026-02-01 00:00:00+00'::timestamptz)$$,
                  'the update records each curator''s new weight with the evidence that moved it');

SELECT is(tr_update_curator_weights('2026-02-01 00:01:00+00'), 0, 'an update with no new performance rows returns 0');
SELECT results_eq($$SELECT curator_type, weight, confidence FROM tr_curator_weights ORDER BY 1$$,
                  $$VALUES ('execution_curator', 0.8917, 0.0198), ('risk_curator', 1.0694, 0.0198), ('venue_curator', 1.0389, 0.0198)$$,
                  'an update with nothing new leaves every weight and confidence as it was');
-- A replay after the update must not reopen rows already counted.
SELECT tr_report_execution('CL-1', (SELECT r FROM cl_report));
SELECT is(tr_update_curator_weights('2026-02-01 00:02:00+00'), 0, 'a report replayed after the update gives it nothing to count again');

CREATE FUNCTION pg_temp.scored(p_curator text, p_execution text, p_accuracy numeric)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO tr_curator_performance (curator_type, execution_id, contribution_score, accuracy_score)
    VALUES (p_curator, p_execution, 0.3333, p_accuracy)
$$;

-- A neutral accuracy of 0.5 leaves the weights alone, so only confidence moves.
SELECT pg_temp.scored('execution_curator', 'X-2', 0.5), pg_temp.scored('execution_curator', 'X-3', 0.5);
SELECT is(tr_update_curator_weights('2026-02-01 00:03:00+00'), 1, 'only the curator with new rows counts as updated');
SELECT results_eq($$SELECT curator_type, weight, confidence FROM tr_curator_weights ORDER BY 1$$,
                  $$VALUES ('execution_curator', 0.8917, 0.0582), ('risk_curator', 1.0694, 0.0198), ('venue_curator', 1.0389, 0.0198)$$,
                  'confidence grows with the rows weighed (1 - exp(-3/50) after three), and accuracy 0.5 keeps the weights');
SELECT results_eq($$SELECT curator_type, weight, mean_accuracy, rows_weighed FROM tr_curator_weight_history
                     WHERE created_at = '2026-02-01 00:03:00+00' ORDER BY 1$$,
                  $$VALUES ('execution_curator', 0.8917, 0.5000, 2), ('risk_curator', 1.0694, NULL, 0), ('venue_curator', 1.0389, NULL, 0)$$,
                  'every update records every curator, one without new evidence with 0 rows and no accuracy');

-- A lesson that says to trust venue_curator half as much: 1.0389 x 0.5 = 0.51945, then
-- all are divided by the new mean 0.82685, in full precision.
INSERT INTO tr_strand (id, kind, lesson_metadata, tags) VALUES
    ('LESSON-V', 'braid', '{"lesson": {"conditions": {}, "effects": {"curator_weight": {"venue_curator": 0.5}}}}', '{}');
SELECT pg_temp.scored('venue_curator', 'X-4', 0.5);
SELECT tr_update_curator_weights('2026-02-01 00:04:00+00');
SELECT results_eq($$SELECT curator_type, weight FROM tr_curator_weights ORDER BY 1$$,
                  $$VALUES ('execution_curator', 1.0784), ('risk_curator', 1.2933), ('venue_curator', 0.6282)$$,
                  'a lesson''s curator_weight factor multiplies that curator''s weight before the weights are renormalized');
SELECT results_eq($$SELECT curator_type, lesson_adjustments FROM tr_curator_weights ORDER BY 1$$,
                  $$VALUES ('execution_curator', '{}'::jsonb), ('risk_curator', '{}'::jsonb), ('venue_curator', '{"LESSON-V": 0.5}'::jsonb)$$,
                  'the lesson that moved a curator is named, with its factor, in that curator''s lesson_adjustments');
SELECT is((SELECT lesson_adjustments FROM tr_curator_weight_history WHERE curator_type = 'venue_curator' AND created_at = '2026-02-01 00:04:00+00'),
          '{"LESSON-V": 0.5}'::jsonb, 'the weight history keeps which lesson adjusted the curator');
SELECT results_eq($$SELECT created_at, count(*) FROM tr_curator_weight_history GROUP BY 1 ORDER BY 1$$,
                  $$VALUES ('2026-02-01 00:00:00+00'::timestamptz, 3::bigint), ('2026-02-01 00:03:00+00', 3), ('2026-02-01 00:04:00+00', 3)$$,
                  'each update that counted something appended one history row per curator, and those that found nothing none');

-- mean_accuracy: execution (0.6389 + 0.5 + 0.5) / 3, venue (0.7917 + 0.5) / 2.
SELECT results_eq($$SELECT curator_type, weight, executions_scored, mean_accuracy FROM tr_curator_leaderboard$$,
                  $$VALUES ('risk_curator', 1.2933, 1::bigint, 0.8206), ('execution_curator', 1.0784, 3::bigint, 0.5463),
                           ('venue_curator', 0.6282, 2::bigint, 0.6459)$$,
                  'the leaderboard lists curators by weight, heaviest first, with how many executions scored them and their mean accuracy');

-- Extremes: at rate 50 a perfect curator is multiplied by e^25 and a useless one by
-- e^-25, far past both bounds. The perfect one is held at the cap, and the others
-- share what keeps the mean at 1 in their old proportion (1.2933 : 0.6282).
UPDATE tr_strand SET lesson_metadata = jsonb_set(lesson_metadata, '{lesson,active}', 'false') WHERE id = 'LESSON-V';
UPDATE tr_settings SET value = '50' WHERE key = 'weights.learning_rate';
UPDATE tr_settings SET value = '2' WHERE key = 'weights.cap';
SELECT pg_temp.scored('execution_curator', 'X-5', 1), pg_temp.scored('venue_curator', 'X-5', 0), pg_temp.scored('risk_curator', 'X-5', 0);
SELECT tr_update_curator_weights('2026-02-01 00:05:00+00');
SELECT results_eq($$SELECT curator_type, weight FROM tr_curator_weights ORDER BY 1$$,
                  $$VALUES ('execution_curator', 2.0000), ('risk_curator', 0.6731), ('venue_curator', 0.3269)$$,
                  'however extreme the accuracies and the learning rate, no weight rises above weights.cap or falls below weights.floor, and they average 1');
SELECT is((SELECT lesson_adjustments FROM tr_curator_weights WHERE curator_type = 'venue_curator'), '{"LESSON-V": 0.5}'::jsonb,
          'a lesson adjusts a curator once: it stays recorded in lesson_adjustments and is never applied again');

-- Curators that all did equally badly keep their proportions (2 : 0.6731 : 0.3269,
-- which already average 1 within the bounds), however small the common factor that
-- moved them.
SELECT pg_temp.scored('execution_curator', 'X-6', 0), pg_temp.scored('venue_curator', 'X-6', 0), pg_temp.scored('risk_curator', 'X-6', 0);
SELECT lives_ok($$SELECT tr_update_curator_weights('2026-02-01 00:06:00+00')$$,
                'an update in which every curator did equally badly under a high learning rate succeeds');
SELECT results_eq($$SELECT curator_type, weight FROM tr_curator_weights ORDER BY 1$$,
                  $$VALUES ('execution_curator', 2.0000), ('risk_curator', 0.6731), ('venue_curator', 0.3269)$$,
                  'curators moved by the same factor keep their relative weights, within the bounds');

-- A high learning rate from equal weights: e^10, 1 and e^-10. Clamping after
-- normalizing gave 3, 0.2 and 0.2 here, a mean of 1.13.
UPDATE tr_curator_weights SET weight = 1;
UPDATE tr_settings SET value = '20' WHERE key = 'weights.learning_rate';
UPDATE tr_settings SET value = '3.0' WHERE key = 'weights.cap';
SELECT pg_temp.scored('execution_curator', 'X-7', 1), pg_temp.scored('venue_curator', 'X-7', 0.5), pg_temp.scored('risk_curator', 'X-7', 0);
SELECT tr_update_curator_weights('2026-02-01 00:07:00+00');
SELECT is((SELECT round(avg(weight), 4) FROM tr_curator_weights), 1.0000, 'at learning rate 20 the weights still average 1 (to 4 places)');
SELECT ok((SELECT bool_and(weight BETWEEN 0.2 AND 3.0) FROM tr_curator_weights),
          'at learning rate 20 every weight is within weights.floor (0.2) and weights.cap (3.0)');
SELECT results_eq($$SELECT curator_type, weight FROM tr_curator_weights ORDER BY 1$$,
                  $$VALUES ('execution_curator', 2.6000), ('risk_curator', 0.2000), ('venue_curator', 0.2000)$$,
                  'the two weights below the floor are held there, and the one free weight takes what makes the mean 1');

-- The common scale itself, on cases the update above does not reach.
SELECT is(round(tr_weight_scale(ARRAY[100, 1, 1, 0.001], 0.2, 3), 10), 0.4,
          'one weight at the cap, one at the floor, and the two between scaled alike (0.4 each) to a mean of 1');
SELECT is(round(tr_weight_scale(ARRAY[1.95, 0.05], 0.5, 1.2), 10), 16::numeric,
          'where clamping both ends at once would stop at 1.2 and 0.5 (mean 0.85), the one scale gives 1.2 and 0.8');
SELECT is(tr_weight_scale(ARRAY[1, 3], 1.5, 3), 0.5,
          'with a floor above 1 no scale can give a mean of 1: the weights are divided by their mean and the bounds win');

SELECT * FROM finish();
ROLLBACK;
