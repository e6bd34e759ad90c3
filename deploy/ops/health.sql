-- Deploy trader:ops/health
-- Reworked after @v0.2.1: what an exchange shows and the Trader's books do not (an
-- order the Trader did not place, a balance that drifted, execution/reconciliation)
-- waits for an operator, and a drift refuses orders meanwhile: health says so.
BEGIN;

-- One row per check. p_now is a parameter so that tests make the time pass instead of
-- waiting for it; the live checks (sessions, cron) read the present regardless.
CREATE OR REPLACE FUNCTION tr_health(p_now timestamptz DEFAULT clock_timestamp())
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
    UNION ALL
    SELECT 'unconverted_fees', f.status, f.value, f.detail FROM tr_health_fees() f
    UNION ALL
    SELECT 'venue_differences', v.status, v.value, v.detail FROM tr_health_venue_differences() v
$$;

COMMENT ON FUNCTION tr_health(timestamptz) IS
    'The Trader''s health, one row per check (module, workers, pending_age, expired_leases, dead_letters, awaiting_operator, jobs, unconverted_fees, venue_differences) with its verdict (ok, degraded, down), value and what to do: decided here once for trader health, trader status and psql. Runs as its owner to see other sessions and pg_cron.';

COMMIT;
