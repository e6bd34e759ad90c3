-- The jobs as rows, scheduled after the fact: tr_jobs says what the deploy scheduled,
-- and tr_schedule_jobs schedules them again without duplicating any.
BEGIN;
SELECT plan(6);

SELECT set_eq($$SELECT jobname::text, schedule::text, command::text FROM cron.job
                 WHERE jobname LIKE 'trader-%' AND database = current_database()$$,
              $$SELECT name, schedule, command FROM tr_jobs$$,
              'tr_jobs holds exactly the jobs the deploy scheduled, with their schedules and commands');
SELECT results_eq($$SELECT job, scheduled FROM tr_schedule_jobs('pg_cron loaded after the deploy')$$,
                  $$SELECT name, true FROM tr_jobs ORDER BY name$$,
                  'tr_schedule_jobs schedules every job where pg_cron is loaded for this database');
SELECT is((SELECT count(*) FROM cron.job WHERE jobname LIKE 'trader-%' AND database = current_database()),
          (SELECT count(*) FROM tr_jobs), 'scheduling again updates the jobs by name, never duplicates them');
SELECT results_eq($$SELECT action, reason, actor = session_user FROM tr_operator_actions WHERE action = 'schedule_jobs' ORDER BY at DESC, id DESC LIMIT 1$$,
                  $$VALUES ('schedule_jobs', 'pg_cron loaded after the deploy', true)$$,
                  'scheduling is recorded in the audit trail, with who and why');
SET LOCAL ROLE tr_worker;
SELECT throws_ok($$SELECT * FROM tr_schedule_jobs()$$, '42501', NULL, 'the worker cannot schedule jobs');
RESET ROLE;
SET LOCAL ROLE tr_operator;
SELECT lives_ok($$SELECT * FROM tr_schedule_jobs()$$, 'an operator schedules the jobs');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
