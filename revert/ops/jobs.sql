-- Revert trader:ops/jobs
-- Removes the Trader's own jobs only; the pg_cron extension and other users' jobs stay.
BEGIN;

DO $$ BEGIN PERFORM tr_unschedule_job(name) FROM unnest(ARRAY['trader-sweep-leases', 'trader-expire-monitors', 'trader-purge-job-history']) AS name; END $$;
DROP FUNCTION tr_unschedule_job(text);
DROP FUNCTION tr_schedule_job(text, text, text);
DROP TABLE tr_jobs;

DROP FUNCTION tr_purge_job_history(timestamptz);
DROP FUNCTION tr_expire_monitors(timestamptz);
DROP FUNCTION tr_sweep_expired_leases(timestamptz);
DELETE FROM tr_settings WHERE key = 'jobs.history_keep';

COMMIT;
