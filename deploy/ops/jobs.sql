-- Deploy trader:ops/jobs
-- Periodic jobs. Each job's body is a function (tested directly); pg_cron only calls
-- it. Nothing time-critical waits for a job: the claim takes back expired leases
-- itself, and the sweep is a backstop that makes the pipeline view honest.
BEGIN;

INSERT INTO tr_settings (key, value, description) VALUES
    ('jobs.history_keep', '7 days', 'How long pg_cron''s run history (cron.job_run_details) of the Trader''s jobs is kept (an interval).');

CREATE FUNCTION tr_sweep_expired_leases(p_now timestamptz DEFAULT clock_timestamp())
RETURNS integer
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
    WITH swept AS (
        UPDATE tr_inbox
           SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL, updated_at = p_now
         WHERE state = 'claimed' AND lease_expires_at <= p_now
        RETURNING 1)
    SELECT count(*)::integer FROM swept
$$;

COMMENT ON FUNCTION tr_sweep_expired_leases(timestamptz) IS
    'Job body: claims whose lease expired go back to pending (claim_count is kept, so the next worker reconciles before sending). Returns how many.';

CREATE FUNCTION tr_expire_monitors(p_now timestamptz DEFAULT clock_timestamp())
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_setting text := tr_setting('monitor.max_age');
    v_count   integer;
BEGIN
    IF v_setting = 'off' THEN
        RETURN 0;
    END IF;
    UPDATE tr_strand
       SET monitoring_state = monitoring_state || jsonb_build_object('status', 'expired', 'closed_at', p_now),
           updated_at = p_now
     WHERE kind = 'monitoring' AND monitoring_state->>'status' = 'active'
       AND (monitoring_state->>'opened_at')::timestamptz < p_now - v_setting::interval;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count;
END
$$;

COMMENT ON FUNCTION tr_expire_monitors(timestamptz) IS
    'Job body: active monitors older than the monitor.max_age setting are expired (''off'' by default: none are). Returns how many.';

CREATE FUNCTION tr_purge_job_history(p_now timestamptz DEFAULT clock_timestamp())
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_count integer := 0;
BEGIN
    IF to_regclass('cron.job_run_details') IS NOT NULL THEN
        DELETE FROM cron.job_run_details d
         USING cron.job j
         WHERE d.jobid = j.jobid AND j.jobname LIKE 'trader-%' AND j.database = current_database()
           AND d.end_time < p_now - tr_setting('jobs.history_keep')::interval;
        GET DIAGNOSTICS v_count = ROW_COUNT;
    END IF;
    RETURN v_count;
END
$$;

COMMENT ON FUNCTION tr_purge_job_history(timestamptz) IS
    'Job body: deletes pg_cron run history of the Trader''s own jobs older than the jobs.history_keep setting. Returns how many rows.';

REVOKE EXECUTE ON FUNCTION tr_sweep_expired_leases(timestamptz), tr_expire_monitors(timestamptz),
                           tr_purge_job_history(timestamptz) FROM PUBLIC;

-- Every job of the module is a row here, written by the change that makes the job,
-- so the jobs can be scheduled again at any time (trader jobs schedule).
CREATE TABLE tr_jobs (
    name     text PRIMARY KEY CHECK (name LIKE 'trader-%'),
    schedule text NOT NULL,
    command  text NOT NULL
);

COMMENT ON TABLE tr_jobs IS
    'The Trader''s pg_cron jobs, one row each, recorded by tr_schedule_job whether or not pg_cron could schedule it then.';
GRANT SELECT ON tr_jobs TO tr_worker, tr_inspector;

-- pg_cron lives in one database of the cluster (cron.database_name). Deployed there,
-- jobs are scheduled by name (a redeploy updates, never duplicates); deployed
-- elsewhere, the module works and the deploy says how to schedule them later.
CREATE FUNCTION tr_schedule_job(p_name text, p_schedule text, p_command text)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    INSERT INTO tr_jobs (name, schedule, command) VALUES (p_name, p_schedule, p_command)
    ON CONFLICT (name) DO UPDATE SET schedule = EXCLUDED.schedule, command = EXCLUDED.command;
    IF current_setting('cron.database_name', true) IS DISTINCT FROM current_database() THEN
        RAISE WARNING 'pg_cron is not available in database %: job % is not scheduled', current_database(), p_name
            USING HINT = format('Load pg_cron with cron.database_name set to this database, then run trader jobs schedule (SELECT * FROM tr_schedule_jobs()), or run %L with cron.schedule_in_database from the cron database.', p_command);
        RETURN false;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_cron') THEN
        CREATE EXTENSION pg_cron;
    END IF;
    PERFORM cron.schedule(p_name, p_schedule, p_command);
    RETURN true;
END
$$;

COMMENT ON FUNCTION tr_schedule_job(text, text, text) IS
    'Schedules (or updates) a named pg_cron job in this database when pg_cron is loaded for it; warns and returns false otherwise.';

-- Removes a job of this database by name; absent jobs are fine (cron.unschedule is not).
CREATE FUNCTION tr_unschedule_job(p_name text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    DELETE FROM tr_jobs WHERE name = p_name;
    IF to_regclass('cron.job') IS NOT NULL THEN
        PERFORM cron.unschedule(jobid) FROM cron.job WHERE jobname = p_name AND database = current_database();
    END IF;
END
$$;

COMMENT ON FUNCTION tr_unschedule_job(text) IS 'Removes this database''s pg_cron job of that name, if any, and its row in tr_jobs; other jobs are untouched.';

REVOKE EXECUTE ON FUNCTION tr_schedule_job(text, text, text), tr_unschedule_job(text) FROM PUBLIC;

DO $$
BEGIN
    PERFORM tr_schedule_job('trader-sweep-leases', '* * * * *', 'SELECT tr_sweep_expired_leases()');
    PERFORM tr_schedule_job('trader-expire-monitors', '*/5 * * * *', 'SELECT tr_expire_monitors()');
    PERFORM tr_schedule_job('trader-purge-job-history', '17 3 * * *', 'SELECT tr_purge_job_history()');
END
$$;

COMMIT;
