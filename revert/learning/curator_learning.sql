-- Revert trader:learning/curator_learning
BEGIN;
DO $$ BEGIN PERFORM tr_unschedule_job('trader-curator-weights'); END $$;
DROP VIEW tr_curator_leaderboard;
DROP FUNCTION tr_update_curator_weights(timestamptz);
DROP FUNCTION tr_weight_scale(numeric[], numeric, numeric);
DROP TRIGGER tr_score_curators_refreshed ON tr_execution_performance;
DROP TRIGGER tr_score_curators ON tr_execution_performance;
DROP FUNCTION tr_score_curators();
DROP FUNCTION tr_prediction_accuracy(jsonb, numeric, jsonb, numeric);
DROP TABLE tr_curator_weight_history;
DELETE FROM tr_settings WHERE key IN ('weights.learning_rate', 'weights.floor', 'weights.cap', 'weights.evidence_scale');
COMMIT;
