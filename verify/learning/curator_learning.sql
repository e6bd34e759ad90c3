-- Verify trader:learning/curator_learning
BEGIN;
SELECT curator_type, weight, confidence, mean_accuracy, rows_weighed FROM tr_curator_weight_history WHERE false;
SELECT curator_type, executions_scored FROM tr_curator_leaderboard WHERE false;
SELECT 1 / (tr_prediction_accuracy('{"slip_bps": 10}', 0.5, '{"slip_bps": 20}', 0.5) = 0.5)::int;
-- 10c + c + 0.2 = 3: the smallest weight held at the floor, the others scaled to average 1.
SELECT 1 / (round(tr_weight_scale(ARRAY[10, 1, 0.0001], 0.2, 3), 6) = 0.254545)::int;
SELECT 1 / (count(*) = 2)::int FROM pg_catalog.pg_trigger WHERE tgname IN ('tr_score_curators', 'tr_score_curators_refreshed');
ROLLBACK;
