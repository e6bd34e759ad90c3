-- Revert trader:core/routes
BEGIN;
DROP TRIGGER tr_route_notify ON tr_strand;
DROP TRIGGER tr_route_notify ON md_strand;
DROP TRIGGER tr_route_notify ON rm_strand;
DROP TRIGGER tr_route_notify ON dm_strand;
DROP FUNCTION tr_route_notify();
DROP FUNCTION tr_route_notifications(text, jsonb, jsonb);
DROP TABLE tr_routes;
COMMIT;
