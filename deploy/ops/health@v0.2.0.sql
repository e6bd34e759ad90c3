-- Deploy trader:ops/health
-- Probes, supervisors and people ask one question: is the Trader working, and if not,
-- what must be done? Each check's verdict is decided here, once, so that `trader
-- health`, `trader status` and a psql session never disagree about it. The readers
-- need views the module's roles cannot have (other sessions in pg_stat_activity,
-- pg_cron's tables), so the functions run as their owner and return only what the
-- checks need.
BEGIN;

INSERT INTO tr_setting_rules (key, kind, min, max, min_open, allow_off) VALUES
    ('health.max_pending_age',     'interval', NULL, NULL, false, false),
    ('health.expired_lease_grace', 'interval', NULL, NULL, false, false);

INSERT INTO tr_settings (key, value, description) VALUES
    ('health.max_pending_age', '30 seconds',
     'trader health is degraded when an order has waited longer than this for a worker: workers are missing, stuck or too few (an interval).'),
    ('health.expired_lease_grace', '30 seconds',
     'trader health is degraded when a claim''s lease expired longer ago than this and no claim took it back: its worker died and none is claiming (an interval).');

-- A worker names its connections `trader-worker <worker id>`; counting sessions rather
-- than asking the worker means a hung process that still holds its connections counts
-- as alive, which the pending-age check then catches.
CREATE FUNCTION tr_worker_sessions()
RETURNS TABLE (worker_id text, connections integer, connected_since timestamptz, last_active timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT substr(a.application_name, length('trader-worker ') + 1), count(*)::integer,
           min(a.backend_start), max(coalesce(a.state_change, a.backend_start))
      FROM pg_stat_activity a
     WHERE a.datname = current_database() AND a.application_name LIKE 'trader-worker %'
     GROUP BY a.application_name
     ORDER BY 1
$$;

COMMENT ON FUNCTION tr_worker_sessions() IS
    'The workers connected to this database (connections named trader-worker <id>), for trader health and trader status: runs as its owner because the module''s roles cannot see other roles'' sessions.';

-- pg_cron may be absent from this database (loaded for another one, or not at all);
-- then the jobs are listed unscheduled rather than failing the reader, and the cron
-- tables are only named inside the branch that knows they exist.
CREATE FUNCTION tr_job_status()
RETURNS TABLE (job text, schedule text, scheduled boolean, active boolean, last_status text,
               last_start timestamptz, last_end timestamptz, last_message text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF to_regclass('cron.job') IS NULL OR to_regclass('cron.job_run_details') IS NULL THEN
        RETURN QUERY SELECT t.name, t.schedule, false, false, NULL::text, NULL::timestamptz, NULL::timestamptz, NULL::text
                       FROM tr_jobs t ORDER BY t.name;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT t.name, t.schedule, j.jobid IS NOT NULL, coalesce(j.active, false),
               r.status, r.start_time, r.end_time, left(r.return_message, 500)
          FROM tr_jobs t
          LEFT JOIN cron.job j ON j.jobname = t.name AND j.database = current_database()
          LEFT JOIN LATERAL (SELECT d.status, d.start_time, d.end_time, d.return_message
                               FROM cron.job_run_details d
                              WHERE d.jobid = j.jobid AND d.status NOT IN ('starting', 'running')
                              ORDER BY d.start_time DESC NULLS LAST, d.runid DESC
                              LIMIT 1) r ON true
         ORDER BY t.name;
END
$$;

COMMENT ON FUNCTION tr_job_status() IS
    'Each job of tr_jobs: whether pg_cron has it for this database, and its last finished run. Runs as its owner (the module''s roles cannot read cron.*); without pg_cron here every job is unscheduled, never an error.';

-- The jobs check in words: what is wrong first, and the one thing to do about it.
CREATE FUNCTION tr_health_jobs()
RETURNS TABLE (status text, value text, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    WITH s AS (SELECT * FROM tr_job_status()),
         agg AS (SELECT count(*) AS jobs, count(*) FILTER (WHERE scheduled AND active) AS scheduled,
                        string_agg(job, ', ' ORDER BY job) FILTER (WHERE NOT (scheduled AND active)) AS unscheduled,
                        string_agg(format('%s (%s)', job, coalesce(last_message, 'no message')), '; ' ORDER BY job)
                            FILTER (WHERE last_status = 'failed') AS failed
                   FROM s)
    SELECT CASE WHEN to_regclass('cron.job') IS NULL OR unscheduled IS NOT NULL OR failed IS NOT NULL
                THEN 'degraded' ELSE 'ok' END,
           format('%s of %s scheduled', scheduled, jobs),
           CASE WHEN to_regclass('cron.job') IS NULL
                THEN 'pg_cron is not installed in this database (no cron schema): leases, monitors and learning are not swept on time; load pg_cron with cron.database_name set to this database, CREATE EXTENSION pg_cron, then trader jobs schedule'
                WHEN unscheduled IS NOT NULL
                THEN format('not scheduled: %s; run trader jobs schedule', unscheduled)
                WHEN failed IS NOT NULL
                THEN format('last run failed: %s; see cron.job_run_details and fix the cause', failed)
                ELSE 'every job is scheduled and its last run succeeded' END
      FROM agg
$$;

COMMENT ON FUNCTION tr_health_jobs() IS
    'The verdict of the jobs check of tr_health: degraded when pg_cron is absent here, a job is not scheduled, or a job''s last run failed, with what to do.';

-- One row per check. p_now is a parameter so that tests make the time pass instead of
-- waiting for it; the live checks (sessions, cron) read the present regardless.
CREATE FUNCTION tr_health(p_now timestamptz DEFAULT clock_timestamp())
RETURNS TABLE (check_name text, status text, value text, detail text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
    WITH cfg AS (SELECT tr_setting('health.max_pending_age')::interval AS max_pending,
                        tr_setting('health.max_pending_age') AS max_pending_text,
                        tr_setting('health.expired_lease_grace')::interval AS grace,
                        tr_setting('health.expired_lease_grace') AS grace_text),
         inbox AS (SELECT min(created_at) FILTER (WHERE state = 'pending') AS oldest_pending,
                          count(*) FILTER (WHERE state = 'claimed' AND lease_expires_at < p_now) AS expired,
                          count(*) FILTER (WHERE state = 'claimed' AND lease_expires_at < p_now - (SELECT grace FROM cfg)) AS stale
                     FROM tr_inbox),
         w AS (SELECT count(*) AS n, string_agg(worker_id, ', ') AS ids FROM tr_worker_sessions()),
         dl AS (SELECT count(*) FILTER (WHERE reason = 'PROCESSING_ERROR') AS dead,
                       count(*) FILTER (WHERE reason = 'UNKNOWN_AT_VENUE') AS unknown
                  FROM tr_dead_letters)
    SELECT 'module', CASE WHEN to_regprocedure('tr_claim_batch(text,integer,text[])') IS NULL THEN 'down' ELSE 'ok' END,
           coalesce(to_regprocedure('tr_claim_batch(text,integer,text[])')::text, 'missing'),
           CASE WHEN to_regprocedure('tr_claim_batch(text,integer,text[])') IS NULL
                THEN 'tr_claim_batch is missing: the worker cannot claim; sqitch deploy the module'
                ELSE 'deployed with the functions the worker calls' END
    UNION ALL
    SELECT 'workers', CASE WHEN w.n = 0 THEN 'degraded' ELSE 'ok' END, w.n::text,
           CASE WHEN w.n = 0 THEN 'no worker is connected: orders wait; start trader worker'
                ELSE 'connected: ' || w.ids END
      FROM w
    UNION ALL
    SELECT 'pending_age', CASE WHEN p_now - i.oldest_pending > c.max_pending THEN 'degraded' ELSE 'ok' END,
           coalesce(round(extract(epoch FROM p_now - i.oldest_pending), 1) || ' s', '-'),
           CASE WHEN p_now - i.oldest_pending > c.max_pending
                THEN format('an order has waited longer than health.max_pending_age (%s): check that workers run and are not failing (their logs), or add workers', c.max_pending_text)
                ELSE format('no order has waited longer than %s', c.max_pending_text) END
      FROM inbox i, cfg c
    UNION ALL
    SELECT 'expired_leases', CASE WHEN i.stale > 0 THEN 'degraded' ELSE 'ok' END, i.expired::text,
           CASE WHEN i.stale > 0
                THEN format('%s claims expired over health.expired_lease_grace (%s) ago and were not taken back: a worker died and none is claiming; start trader worker', i.stale, c.grace_text)
                ELSE 'no claim is left behind by a dead worker' END
      FROM inbox i, cfg c
    UNION ALL
    SELECT 'dead_letters', CASE WHEN dl.dead > 0 THEN 'degraded' ELSE 'ok' END, dl.dead::text,
           CASE WHEN dl.dead > 0
                THEN 'orders failed PROCESSING_ERROR: trader orders dead-letters, then trader orders retry or trader orders acknowledge'
                ELSE 'no dead letter' END
      FROM dl
    UNION ALL
    SELECT 'awaiting_operator', CASE WHEN dl.unknown > 0 THEN 'degraded' ELSE 'ok' END, dl.unknown::text,
           CASE WHEN dl.unknown > 0
                THEN 'orders failed UNKNOWN_AT_VENUE may be at their venue: check each at the exchange, then trader orders resolve'
                ELSE 'no order awaits an operator' END
      FROM dl
    UNION ALL
    SELECT 'jobs', j.status, j.value, j.detail FROM tr_health_jobs() j
$$;

COMMENT ON FUNCTION tr_health(timestamptz) IS
    'The Trader''s health, one row per check (module, workers, pending_age, expired_leases, dead_letters, awaiting_operator, jobs) with its verdict (ok, degraded, down), value and what to do: decided here once for trader health, trader status and psql. Runs as its owner to see other sessions and pg_cron.';

REVOKE EXECUTE ON FUNCTION tr_worker_sessions(), tr_job_status(), tr_health_jobs(), tr_health(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_worker_sessions(), tr_job_status(), tr_health(timestamptz) TO tr_worker, tr_inspector, tr_operator;

COMMIT;
