-- Revert trader:ops/job_schedule
-- The jobs themselves stay: the changes that scheduled them remove them.
BEGIN;

DELETE FROM tr_operator_actions WHERE action = 'schedule_jobs';
DROP FUNCTION tr_schedule_jobs(text);

COMMIT;
