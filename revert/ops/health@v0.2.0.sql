-- Revert trader:ops/health
-- The settings go with their rules; the rules outlive their settings never.
BEGIN;

DROP FUNCTION tr_health(timestamptz), tr_health_jobs(), tr_job_status(), tr_worker_sessions();
DELETE FROM tr_settings WHERE key IN ('health.max_pending_age', 'health.expired_lease_grace');
DELETE FROM tr_setting_rules WHERE key IN ('health.max_pending_age', 'health.expired_lease_grace');

COMMIT;
