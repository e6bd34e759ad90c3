-- Revert trader:ops/inspection_views
BEGIN;
DROP VIEW tr_unapplied_summary;
DROP VIEW tr_recent_reports;
DROP VIEW tr_pipeline;
DROP VIEW tr_execution_quality;
DROP VIEW tr_position_pnl;
COMMIT;
