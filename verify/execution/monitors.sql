-- Verify trader:execution/monitors
BEGIN;
SELECT 1 / count(*) FROM pg_catalog.pg_trigger WHERE tgname = 'tr_sync_monitor';
SELECT 1 / count(*) FROM pg_catalog.pg_trigger WHERE tgname = 'tr_monitor_market_update';
SELECT 1 / count(*) FROM pg_catalog.pg_trigger WHERE tgname = 'tr_close_monitors';
SELECT tr_setting('monitor.max_age');
ROLLBACK;
