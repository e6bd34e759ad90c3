-- The periodic jobs: their bodies, called directly, and their schedule.
BEGIN;
SELECT plan(10);

DELETE FROM tr_inbox; DELETE FROM tr_strand;

INSERT INTO tr_inbox (id, source, source_id, state, lease_owner, lease_expires_at, claim_count) VALUES
    ('J-1', 'decision', 'J-1', 'claimed', 'dead-worker', '2026-01-01 00:00:00+00', 1),
    ('J-2', 'decision', 'J-2', 'claimed', 'live-worker', '2026-01-01 00:10:00+00', 1);
INSERT INTO tr_inbox (id, source, source_id) VALUES ('J-3', 'decision', 'J-3');
SELECT is(tr_sweep_expired_leases('2026-01-01 00:05:00+00'), 1, 'the sweep takes back the one expired lease');
SELECT results_eq($$SELECT id, state, lease_owner, claim_count FROM tr_inbox ORDER BY id$$,
                  $$VALUES ('J-1', 'pending', NULL::text, 1), ('J-2', 'claimed', 'live-worker', 1), ('J-3', 'pending', NULL, 0)$$,
                  'an expired claim is pending again and keeps its claim count (so it is reconciled); a live one is untouched');
SELECT is(tr_sweep_expired_leases('2026-01-01 00:05:00+00'), 0, 'a second sweep finds nothing');

INSERT INTO tr_strand (kind, symbol, decision_id, monitoring_state) VALUES
    ('monitoring', 'JX', 'J-OLD', '{"status": "active", "opened_at": "2026-01-01T00:00:00Z"}'),
    ('monitoring', 'JX', 'J-NEW', '{"status": "active", "opened_at": "2026-01-01T23:00:00Z"}');
SELECT is(tr_expire_monitors('2026-01-02 00:00:00+00'), 0, 'with monitor.max_age off no monitor expires');
UPDATE tr_settings SET value = '12 hours' WHERE key = 'monitor.max_age';
SELECT is(tr_expire_monitors('2026-01-02 00:00:00+00'), 1, 'with a max age the stale monitor expires');
SELECT results_eq($$SELECT decision_id, monitoring_state->>'status' FROM tr_strand WHERE kind = 'monitoring' ORDER BY decision_id$$,
                  $$VALUES ('J-NEW', 'active'), ('J-OLD', 'expired')$$, 'only the monitor older than the max age expired');

SELECT bag_eq($$SELECT jobname FROM cron.job WHERE database = current_database()
                  AND jobname IN ('trader-sweep-leases', 'trader-expire-monitors', 'trader-purge-job-history')$$,
              ARRAY['trader-sweep-leases', 'trader-expire-monitors', 'trader-purge-job-history'],
              'the deployment scheduled its named jobs in this database, once each');
SELECT is((SELECT command FROM cron.job WHERE jobname = 'trader-sweep-leases'), 'SELECT tr_sweep_expired_leases()',
          'the sweep job calls its function');

INSERT INTO cron.job_run_details (jobid, runid, database, username, command, status, start_time, end_time)
SELECT jobid, 900000 + g, current_database(), current_user, command, 'succeeded',
       '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 day', '2026-01-01 00:00:01+00'::timestamptz + g * interval '1 day'
  FROM cron.job, generate_series(0, 9) AS g WHERE jobname = 'trader-sweep-leases';
SELECT is(tr_purge_job_history('2026-01-11 00:00:00+00'), 3, 'the purge deletes run history older than jobs.history_keep (7 days)');
SELECT is((SELECT count(*) FROM cron.job_run_details WHERE runid > 900000), 7::bigint, 'newer run history is kept');

SELECT * FROM finish();
ROLLBACK;
