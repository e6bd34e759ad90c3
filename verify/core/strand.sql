-- Verify trader:core/strand
BEGIN;
SELECT id, lifecycle_id, parent_id, module, kind, symbol, timeframe, session_bucket, regime,
       decision_id, order_spec, route_hint, tr_predict, fills, exec_metrics, position_data,
       monitoring_state, lesson_metadata, tags, created_at, updated_at
  FROM tr_strand WHERE false;
SELECT 1 / count(*) FROM pg_catalog.pg_indexes WHERE tablename = 'tr_strand' AND indexname = 'tr_strand_tags';
SELECT 1 / count(*) FROM pg_catalog.pg_indexes WHERE tablename = 'tr_strand' AND indexname = 'tr_strand_recent_executions';
ROLLBACK;
