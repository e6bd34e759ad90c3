-- Deploy trader:ops/job_schedule
-- The jobs are scheduled when their changes deploy, but only where pg_cron is loaded
-- for this database; loaded later, a redeploy does nothing (sqitch has nothing to
-- deploy). Every job is a row of tr_jobs, so they can be scheduled at any time after.
BEGIN;

CREATE FUNCTION tr_schedule_jobs(p_why text DEFAULT NULL)
RETURNS TABLE (job text, schedule text, scheduled boolean)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT j.name, j.schedule, tr_schedule_job(j.name, j.schedule, j.command) FROM tr_jobs j ORDER BY j.name;
    INSERT INTO tr_operator_actions (action, reason, details)
    VALUES ('schedule_jobs', coalesce(nullif(btrim(p_why), ''), 'pg_cron jobs scheduled after the deploy'),
            jsonb_build_object('jobs', (SELECT jsonb_agg(j.name ORDER BY j.name) FROM tr_jobs j)));
END
$$;

COMMENT ON FUNCTION tr_schedule_jobs(text) IS
    'Operator (trader jobs schedule): schedules or updates every job of tr_jobs where pg_cron is loaded for this database; returns whether each was scheduled (false with a warning and hint elsewhere). Recorded in tr_operator_actions.';

REVOKE EXECUTE ON FUNCTION tr_schedule_jobs(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_schedule_jobs(text) TO tr_operator;

COMMIT;
