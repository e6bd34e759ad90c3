-- Revert trader:execution/monitors
BEGIN;
DROP TRIGGER tr_close_monitors ON tr_strand;
DROP FUNCTION tr_close_monitors();
DROP TRIGGER tr_monitor_market_update ON md_strand;
DROP FUNCTION tr_monitor_market_update();
DROP FUNCTION tr_evaluate_monitors(text);
DROP TRIGGER tr_sync_monitor ON tr_strand;
DROP FUNCTION tr_sync_monitor();
DELETE FROM tr_settings WHERE key = 'monitor.max_age';
COMMIT;
