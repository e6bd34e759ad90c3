-- Verify trader:core/routes
BEGIN;
SELECT 1 / count(*) FROM tr_routes WHERE tag = 'trader:execute' AND channel = 'trader_strand_notification';
SELECT 1 / (count(*) = 4)::int FROM pg_catalog.pg_trigger WHERE tgname = 'tr_route_notify' AND NOT tgisinternal;
SELECT 1 / count(*) FROM tr_route_notifications('dm_strand', '{"id": "x", "tags": ["trader:execute"]}');
ROLLBACK;
