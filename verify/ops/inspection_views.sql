-- Verify trader:ops/inspection_views
BEGIN;
SELECT symbol, total_pnl FROM tr_position_pnl WHERE false;
SELECT venue, fill_ratio, p95_slip_bps FROM tr_execution_quality WHERE false;
SELECT pending, oldest_pending_age, expired_leases FROM tr_pipeline;
SELECT order_id, status FROM tr_recent_reports WHERE false;
SELECT reason, count FROM tr_unapplied_summary WHERE false;
ROLLBACK;
