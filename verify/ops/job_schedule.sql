-- Verify trader:ops/job_schedule
-- Scheduling after the fact answers for every job (scheduled where pg_cron is loaded
-- for this database, a warning elsewhere) and is recorded.
BEGIN;
SELECT 1 / (count(*) = (SELECT count(*) FROM tr_jobs))::integer FROM tr_schedule_jobs('verify');
SELECT 1 / count(*) FROM tr_operator_actions WHERE action = 'schedule_jobs' AND reason = 'verify';
ROLLBACK;
