-- Revert trader:tr_jobs
-- Removes the Trader's own jobs only; the pg_cron extension and other users' jobs stay.
BEGIN;

DO $$
BEGIN
    IF to_regclass('cron.job') IS NOT NULL THEN
        PERFORM cron.unschedule(jobid)
           FROM cron.job
          WHERE jobname IN ('trader-sweep-leases', 'trader-expire-monitors', 'trader-purge-job-history')
            AND database = current_database();
    END IF;
END
$$;

DROP FUNCTION tr_purge_job_history(timestamptz);
DROP FUNCTION tr_expire_monitors(timestamptz);
DROP FUNCTION tr_sweep_expired_leases(timestamptz);
DELETE FROM tr_settings WHERE key = 'jobs.history_keep';

COMMIT;
