-- Verify trader:ops/jobs
BEGIN;
SELECT tr_sweep_expired_leases('1970-01-01');
SELECT tr_expire_monitors('1970-01-01');
SELECT tr_setting('jobs.history_keep')::interval;
ROLLBACK;
