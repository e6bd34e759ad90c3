-- Verify trader:tr_curator_learning
BEGIN;
SELECT weighed_at FROM tr_curator_performance WHERE false;
SELECT curator_type, weight, confidence, mean_accuracy, rows_weighed FROM tr_curator_weight_history WHERE false;
SELECT curator_type, executions_scored FROM tr_curator_leaderboard WHERE false;
SELECT 1 / (tr_prediction_accuracy('{"slip_bps": 10}', 0.5, '{"slip_bps": 20}', 0.5) = 0.5)::int;
ROLLBACK;
