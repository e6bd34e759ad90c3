-- Deploy trader:learning/curator_learning
-- Curators that predict well gain weight. Every executed order scores each curator
-- that took part: contribution_score, its share of the decision, and accuracy_score,
-- how close its predictions came to the outcome. A pg_cron batch then moves the
-- weights: a batch, not each report, so that reports never queue on the few weight
-- rows, and so that each performance row is counted exactly once (weighed_at).
--
-- accuracy_score in [0, 1], the mean over what the curator predicted:
--   fill_prob   1 - |predicted - filled / ordered|
--   slip_bps    1 / (1 + |predicted - realized| / 10)    (10 bps off scores 0.5)
--   latency_ms  1 / (1 + |predicted - realized| / 100)   (100 ms off scores 0.5)
--   and for a curator that predicted none of these, how well its score foretold the
--   execution: 1 - |score - execution_score|.
-- contribution_score = weight x score / sum over the curators of weight x score.
BEGIN;

INSERT INTO tr_settings (key, value, description) VALUES
    ('weights.learning_rate', '1.0', 'How fast weights move: w x exp(rate x (mean accuracy - 0.5)) per update.'),
    ('weights.floor', '0.2', 'No curator''s weight falls below this; the weights still average 1 while floor <= 1 <= cap.'),
    ('weights.cap', '3.0', 'No curator''s weight rises above this; the weights still average 1 while floor <= 1 <= cap.'),
    ('weights.evidence_scale', '50', 'Confidence = 1 - exp(-performance rows seen / this).');

CREATE TABLE tr_curator_weight_history (
    id                 text PRIMARY KEY DEFAULT tr_ulid(),
    curator_type       text NOT NULL,
    weight             decimal(8,4) NOT NULL,
    confidence         decimal(8,4) NOT NULL,
    mean_accuracy      decimal(8,4),
    rows_weighed       integer NOT NULL,
    lesson_adjustments jsonb,
    created_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX tr_curator_weight_history_curator ON tr_curator_weight_history (curator_type, created_at DESC);
COMMENT ON TABLE tr_curator_weight_history IS 'Every weight a curator has had, with the evidence that moved it.';

-- PL/pgSQL: called three times per report, and a SQL function with a subquery would
-- be planned again on every call.
CREATE FUNCTION tr_prediction_accuracy(p_predictions jsonb, p_score numeric, p_outcome jsonb, p_execution_score numeric)
RETURNS numeric
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_sum numeric := 0;
    v_n   integer := 0;
    v_p   numeric;
    v_o   numeric;
BEGIN
    v_p := tr_json_numeric(p_predictions->'fill_prob');
    v_o := tr_json_numeric(p_outcome->'fill_ratio');
    IF v_p IS NOT NULL AND v_o IS NOT NULL THEN
        v_sum := v_sum + greatest(0, 1 - abs(v_p - v_o)); v_n := v_n + 1;
    END IF;
    v_p := tr_json_numeric(p_predictions->'slip_bps');
    v_o := tr_json_numeric(p_outcome->'slip_bps');
    IF v_p IS NOT NULL AND v_o IS NOT NULL THEN
        v_sum := v_sum + 1 / (1 + abs(v_p - v_o) / 10); v_n := v_n + 1;
    END IF;
    v_p := tr_json_numeric(p_predictions->'latency_ms');
    v_o := tr_json_numeric(p_outcome->'latency_ms');
    IF v_p IS NOT NULL AND v_o IS NOT NULL THEN
        v_sum := v_sum + 1 / (1 + abs(v_p - v_o) / 100); v_n := v_n + 1;
    END IF;
    IF v_n = 0 THEN
        RETURN round(greatest(0, 1 - abs(p_score - p_execution_score)), 4);
    END IF;
    RETURN round(v_sum / v_n, 4);
END
$$;

COMMENT ON FUNCTION tr_prediction_accuracy(jsonb, numeric, jsonb, numeric) IS
    'How close a curator''s predictions came to the outcome {fill_ratio, slip_bps, latency_ms}, in [0, 1]; for a curator that predicted none of them, 1 - |score - execution_score|.';

-- Scores the curators of the executions whose quality rows a statement wrote or
-- refreshed, in one statement per batch: a row trigger would look the execution up
-- and insert its curators' rows once per execution.
CREATE FUNCTION tr_score_curators()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    -- An upsert fires both triggers, and one of them mostly sees no rows.
    IF NOT EXISTS (SELECT FROM tr_scored_executions) THEN
        RETURN NULL;
    END IF;
    INSERT INTO tr_curator_performance AS p (curator_type, execution_id, contribution_score, accuracy_score, learning_metadata)
    SELECT c.key, n.execution_id,
           round(coalesce(coalesce(tr_json_numeric(c.value->'weight'), 1) * coalesce(tr_json_numeric(c.value->'score'), 0)
                          / nullif(t.total, 0), 0), 4),
           tr_prediction_accuracy(c.value->'predictions', coalesce(tr_json_numeric(c.value->'score'), 0), o.outcome, n.execution_score),
           jsonb_build_object('predictions', c.value->'predictions', 'outcome', o.outcome, 'score', c.value->'score',
                              'weight', c.value->'weight', 'venue', n.venue, 'symbol', n.symbol)
      FROM tr_scored_executions n
      JOIN tr_strand s ON s.id = n.execution_id
     CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(s.lesson_metadata->'curators') = 'object'
                                     THEN s.lesson_metadata->'curators' ELSE '{}' END AS curators) x
     CROSS JOIN LATERAL (SELECT jsonb_build_object(
                'fill_ratio', tr_json_numeric(s.exec_metrics->'filled_qty') / nullif(tr_json_numeric(s.exec_metrics->'order_qty'), 0),
                'slip_bps', s.exec_metrics->'slip_real_bps',
                'latency_ms', s.exec_metrics->'latency_ms') AS outcome) o
     CROSS JOIN LATERAL (SELECT sum(coalesce(tr_json_numeric(e.value->'weight'), 1) * coalesce(tr_json_numeric(e.value->'score'), 0)) AS total
                           FROM jsonb_each(x.curators) e) t
     CROSS JOIN LATERAL jsonb_each(x.curators) c
     WHERE c.key ~ '^[a-z][a-z0-9_]*$'
     ORDER BY n.execution_id, c.key
    ON CONFLICT (execution_id, curator_type) DO UPDATE
       SET contribution_score = EXCLUDED.contribution_score, accuracy_score = EXCLUDED.accuracy_score,
           learning_metadata = EXCLUDED.learning_metadata
     WHERE p.weighed_at IS NULL;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION tr_score_curators() IS
    'Statement trigger on tr_execution_performance: one tr_curator_performance row per curator recorded in each written execution''s lesson_metadata, with its contribution and accuracy.';

-- A transition table serves one event only, hence two triggers.
CREATE TRIGGER tr_score_curators
    AFTER INSERT ON tr_execution_performance REFERENCING NEW TABLE AS tr_scored_executions
    FOR EACH STATEMENT EXECUTE FUNCTION tr_score_curators();
CREATE TRIGGER tr_score_curators_refreshed
    AFTER UPDATE ON tr_execution_performance REFERENCING NEW TABLE AS tr_scored_executions
    FOR EACH STATEMENT EXECUTE FUNCTION tr_score_curators();

-- The one factor c for which clamp(c x raw, floor, cap) averages 1: the fixed point
-- of clamping the weights and rescaling only the unclamped ones until nothing moves.
-- The clamped sum rises piecewise linearly in c, bending where a weight meets a
-- bound, so c lies between the two bends around n and is found by interpolation,
-- set-based and in one pass. When no c can do it (floor > 1 or cap < 1), the bounds
-- win: c is 1 / mean and the clamp alone applies.
CREATE FUNCTION tr_weight_scale(p_raw numeric[], p_floor numeric, p_cap numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    WITH raw AS (
        SELECT r FROM unnest(p_raw) r WHERE r IS NOT NULL
    ), bends AS (
        SELECT b.c, (SELECT sum(greatest(p_floor, least(p_cap, b.c * r))) FROM raw) AS total, (SELECT count(*) FROM raw) AS n
          FROM (SELECT p_floor / r AS c FROM raw WHERE r > 0 UNION SELECT p_cap / r FROM raw WHERE r > 0) b
    ), below AS (
        SELECT c, total, n FROM bends WHERE total <= n ORDER BY c DESC LIMIT 1
    ), above AS (
        SELECT c, total FROM bends WHERE total >= n ORDER BY c LIMIT 1
    )
    SELECT coalesce(
        (SELECT CASE WHEN a.total = b.total THEN b.c ELSE b.c + (b.n - b.total) * (a.c - b.c) / (a.total - b.total) END
           FROM below b, above a WHERE p_floor <= 1 AND 1 <= p_cap),
        (SELECT count(*) / nullif(sum(r), 0) FROM raw))
$$;

COMMENT ON FUNCTION tr_weight_scale(numeric[], numeric, numeric) IS
    'The factor c for which the raw weights, each multiplied by c and held within [p_floor, p_cap], average exactly 1 (feasible when p_floor <= 1 <= p_cap); otherwise 1 / their mean.';

-- Job body: multiplicative weights. Each curator with new evidence moves by
-- exp(rate x (mean accuracy - 0.5)), and by the curator_weight factor of each active
-- lesson not applied to it before; then all are scaled together and held within the
-- floor and the cap so that they average 1 (tr_weight_scale). Confidence grows with
-- the evidence seen. Every change is kept in tr_curator_weight_history.
CREATE FUNCTION tr_update_curator_weights(p_now timestamptz DEFAULT clock_timestamp())
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_rate   numeric := tr_setting('weights.learning_rate')::numeric;
    v_floor  numeric := tr_setting('weights.floor')::numeric;
    v_cap    numeric := tr_setting('weights.cap')::numeric;
    v_scale  numeric := tr_setting('weights.evidence_scale')::numeric;
    v_rows   integer;
    v_c      numeric;
BEGIN
    -- Lock the weights first: two updates at once would count rows twice.
    PERFORM 1 FROM tr_curator_weights ORDER BY curator_type FOR UPDATE;

    CREATE TEMP TABLE IF NOT EXISTS tr_weighing (curator_type text PRIMARY KEY, n integer, mean_accuracy numeric,
                                                 adjustment numeric, lessons jsonb, raw numeric) ON COMMIT DROP;
    TRUNCATE tr_weighing;
    WITH taken AS (
        UPDATE tr_curator_performance SET weighed_at = p_now
         WHERE weighed_at IS NULL
        RETURNING curator_type, accuracy_score)
    INSERT INTO tr_weighing (curator_type, n, mean_accuracy)
    SELECT curator_type, count(*), avg(accuracy_score) FROM taken GROUP BY curator_type;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    IF v_rows = 0 THEN
        RETURN 0;
    END IF;
    INSERT INTO tr_weighing (curator_type, n) SELECT curator_type, 0 FROM tr_curator_weights ON CONFLICT DO NOTHING;

    -- Lessons may say how much to trust a curator: effects.curator_weight {name: factor}.
    -- Each lesson's factor is applied once: the lessons already applied are kept in
    -- lesson_adjustments.
    UPDATE tr_weighing w
       SET adjustment = a.factor, lessons = a.lessons
      FROM (SELECT e.key AS curator_type, exp(sum(ln(greatest(tr_json_numeric(e.value), 0.01)))) AS factor,
                   jsonb_object_agg(s.id, e.value) AS lessons
              FROM tr_strand s
             CROSS JOIN LATERAL jsonb_each(s.lesson_metadata->'lesson'->'effects'->'curator_weight') e
              JOIN tr_curator_weights c ON c.curator_type = e.key
             WHERE s.kind IN ('braid', 'meta_braid')
               AND jsonb_typeof(s.lesson_metadata->'lesson'->'effects'->'curator_weight') = 'object'
               AND tr_lesson_in_force(s.lesson_metadata->'lesson', p_now)
               AND tr_json_numeric(e.value) IS NOT NULL
               AND NOT coalesce(c.lesson_adjustments, '{}') ? s.id
             GROUP BY e.key) a
     WHERE w.curator_type = a.curator_type;

    -- New raw weights in full precision, then one common scale that averages 1 within
    -- [floor, cap].
    UPDATE tr_weighing w
       SET raw = c.weight::numeric * CASE WHEN w.n > 0 THEN exp(v_rate * (w.mean_accuracy - 0.5)) ELSE 1 END
                 * coalesce(w.adjustment, 1)
      FROM tr_curator_weights c
     WHERE c.curator_type = w.curator_type;
    v_c := tr_weight_scale((SELECT array_agg(raw) FROM tr_weighing), v_floor, v_cap);

    UPDATE tr_curator_weights c
       SET weight = greatest(v_floor, least(v_cap, round(w.raw * v_c, 4))),
           lesson_adjustments = coalesce(c.lesson_adjustments, '{}') || coalesce(w.lessons, '{}'),
           confidence = CASE WHEN w.n > 0
                             THEN round(1 - exp(-((SELECT count(*) FROM tr_curator_performance p
                                                    WHERE p.curator_type = c.curator_type AND p.weighed_at IS NOT NULL) / v_scale)), 4)
                             ELSE c.confidence END,
           updated_at = p_now
      FROM tr_weighing w
     WHERE w.curator_type = c.curator_type;

    INSERT INTO tr_curator_weight_history (curator_type, weight, confidence, mean_accuracy, rows_weighed, lesson_adjustments, created_at)
    SELECT c.curator_type, c.weight, c.confidence, round(w.mean_accuracy, 4), w.n, c.lesson_adjustments, p_now
      FROM tr_curator_weights c JOIN tr_weighing w ON w.curator_type = c.curator_type;
    RETURN v_rows;
END
$$;

COMMENT ON FUNCTION tr_update_curator_weights(timestamptz) IS
    'Job body: moves each curator''s weight by its new performance rows (each counted once), applies lessons'' curator_weight factors, scales them together to a mean of 1 within weights.floor and weights.cap (tr_weight_scale), updates confidence, records history. Returns how many curators had new evidence.';

CREATE VIEW tr_curator_leaderboard AS
SELECT w.curator_type, w.weight, w.confidence, w.lesson_adjustments,
       p.n AS executions_scored, p.mean_accuracy, p.mean_contribution, w.updated_at
  FROM tr_curator_weights w
  LEFT JOIN (SELECT curator_type, count(*) AS n, round(avg(accuracy_score), 4) AS mean_accuracy,
                    round(avg(contribution_score), 4) AS mean_contribution
               FROM tr_curator_performance GROUP BY curator_type) p ON p.curator_type = w.curator_type
 ORDER BY w.weight DESC, w.curator_type;

COMMENT ON VIEW tr_curator_leaderboard IS 'Curators by weight, with their confidence, lesson adjustments and record; the history is in tr_curator_weight_history.';

REVOKE EXECUTE ON FUNCTION tr_prediction_accuracy(jsonb, numeric, jsonb, numeric), tr_score_curators(),
                           tr_weight_scale(numeric[], numeric, numeric),
                           tr_update_curator_weights(timestamptz) FROM PUBLIC;
GRANT SELECT ON tr_curator_weight_history, tr_curator_leaderboard TO tr_worker, tr_inspector;

DO $$ BEGIN PERFORM tr_schedule_job('trader-curator-weights', '* * * * *', 'SELECT tr_update_curator_weights()'); END $$;

COMMIT;
