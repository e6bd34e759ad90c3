-- Health: each check's verdict made from rows, with the time passed in. A worker is a
-- session named trader-worker <id>; pg_cron's absence is a cron schema out of sight.
BEGIN;
SELECT plan(30);

DELETE FROM tr_execution_performance; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;
DELETE FROM tr_fills; DELETE FROM tr_inbox; DELETE FROM tr_operator_actions; DELETE FROM tr_venue_differences;

CREATE FUNCTION pg_temp.verdict(p_check text, p_now timestamptz DEFAULT clock_timestamp()) RETURNS text
LANGUAGE sql AS $$ SELECT status FROM tr_health(p_now) WHERE check_name = p_check $$;

CREATE FUNCTION pg_temp.order_row(p_id text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec)
    VALUES (p_id, 'decision', p_id, 'HL-1', '{"side": "buy", "qty": 1, "ref_px": 100}')
$$;

-- An order that failed out of attempts, or unknown at its venue after its intent.
CREATE FUNCTION pg_temp.failed_order(p_id text, p_reason text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, claim_count, last_error, submit_intent_at, venue)
    VALUES (p_id, 'decision', p_id, 'HL-1', '{"side": "buy", "qty": 1, "ref_px": 100}', 5, 'adapter crashed',
            CASE WHEN p_reason = 'UNKNOWN_AT_VENUE' THEN '2026-01-01T00:00:00Z'::timestamptz END,
            CASE WHEN p_reason = 'UNKNOWN_AT_VENUE' THEN 'paper_a' END);
    PERFORM tr_report_execution(p_id, jsonb_build_object('status', 'failed', 'reason', p_reason, 'detail', 'out of attempts'));
END $$;

SELECT results_eq($$SELECT check_name FROM tr_health()$$,
                  $$VALUES ('module'), ('workers'), ('pending_age'), ('expired_leases'), ('dead_letters'),
                           ('awaiting_operator'), ('jobs'), ('unconverted_fees'), ('venue_differences')$$,
                  'one row per check, in a fixed order');
SELECT is(pg_temp.verdict('module'), 'ok', 'module: the function the worker calls is deployed');

-- workers
SELECT is(pg_temp.verdict('workers'), 'degraded', 'workers: none connected is degraded');
SELECT matches((SELECT detail FROM tr_health() WHERE check_name = 'workers'), 'start trader worker', 'and says what to do');
SET LOCAL application_name = 'trader-worker pgtap:1';
SELECT pg_stat_clear_snapshot();
SELECT is(pg_temp.verdict('workers'), 'ok', 'workers: a session named trader-worker <id> is a worker');
SELECT results_eq($$SELECT worker_id, connections FROM tr_worker_sessions()$$, $$VALUES ('pgtap:1', 1)$$,
                  'tr_worker_sessions names the worker and counts its connections');
SET LOCAL application_name = 'pg_prove';
SELECT pg_stat_clear_snapshot();

-- pending age, the time passed in
SELECT pg_temp.order_row('HL-PENDING');
SELECT is(pg_temp.verdict('pending_age', (SELECT created_at FROM tr_inbox WHERE id = 'HL-PENDING') + interval '29 seconds'),
          'ok', 'pending_age: an order waiting less than health.max_pending_age is fine');
SELECT is(pg_temp.verdict('pending_age', (SELECT created_at FROM tr_inbox WHERE id = 'HL-PENDING') + interval '31 seconds'),
          'degraded', 'pending_age: an order waiting longer than health.max_pending_age is degraded');
SELECT is((SELECT value FROM tr_health((SELECT created_at FROM tr_inbox WHERE id = 'HL-PENDING') + interval '31 seconds')
            WHERE check_name = 'pending_age'), '31.0 s', 'its value is the oldest pending order''s age');
UPDATE tr_settings SET value = '1 minute' WHERE key = 'health.max_pending_age';
SELECT is(pg_temp.verdict('pending_age', (SELECT created_at FROM tr_inbox WHERE id = 'HL-PENDING') + interval '31 seconds'),
          'ok', 'the threshold is the setting');
SELECT throws_ok($$UPDATE tr_settings SET value = 'soon' WHERE key = 'health.max_pending_age'$$, '22023', NULL,
                 'the setting is checked by its rule');

-- expired leases
UPDATE tr_inbox SET state = 'claimed', lease_owner = 'gone:1', lease_expires_at = clock_timestamp() WHERE id = 'HL-PENDING';
SELECT is(pg_temp.verdict('expired_leases', clock_timestamp() + interval '29 seconds'), 'ok',
          'expired_leases: a lease just expired is the next claim''s to take back');
SELECT is(pg_temp.verdict('expired_leases', clock_timestamp() + interval '31 seconds'), 'degraded',
          'expired_leases: one left longer than health.expired_lease_grace is degraded');
SELECT is((SELECT value FROM tr_health(clock_timestamp() + interval '31 seconds') WHERE check_name = 'expired_leases'), '1',
          'its value counts the expired leases');

-- dead letters and orders awaiting an operator
SELECT is(pg_temp.verdict('dead_letters'), 'ok', 'dead_letters: none is fine');
SELECT pg_temp.failed_order('HL-DEAD', 'PROCESSING_ERROR');
SELECT is(pg_temp.verdict('dead_letters'), 'degraded', 'dead_letters: a PROCESSING_ERROR dead letter is degraded');
SELECT is(pg_temp.verdict('awaiting_operator'), 'ok', 'a dead letter is not an order awaiting an operator');
SELECT tr_acknowledge_order('HL-DEAD', 'given up');
SELECT is(pg_temp.verdict('dead_letters'), 'ok', 'an acknowledged dead letter no longer counts');
SELECT pg_temp.failed_order('HL-UNK', 'UNKNOWN_AT_VENUE');
SELECT is(pg_temp.verdict('awaiting_operator'), 'degraded', 'awaiting_operator: an order failed UNKNOWN_AT_VENUE is degraded');
SELECT tr_resolve_order('HL-UNK', 'never_placed', NULL, 'not at the exchange');
SELECT is(pg_temp.verdict('awaiting_operator'), 'ok', 'a resolved order no longer awaits an operator');

-- jobs: scheduled here, a failed last run, pg_cron out of sight
SELECT is(pg_temp.verdict('jobs'), 'ok', 'jobs: every job scheduled, no failed run');
INSERT INTO cron.job_run_details (jobid, runid, database, username, command, status, return_message, start_time, end_time)
SELECT jobid, nextval('cron.runid_seq'), database, username, command, 'failed', 'ERROR: boom',
       clock_timestamp() + interval '1 hour', clock_timestamp() + interval '1 hour'
  FROM cron.job WHERE jobname = 'trader-form-braids' AND database = current_database();
SELECT results_eq($$SELECT status, detail FROM tr_health() WHERE check_name = 'jobs'$$,
                  $$VALUES ('degraded', 'last run failed: trader-form-braids (ERROR: boom); see cron.job_run_details and fix the cause')$$,
                  'jobs: a job whose last run failed is degraded, named with its message');
ALTER SCHEMA cron RENAME TO cron_out_of_sight;
SELECT results_eq($$SELECT status, value FROM tr_health() WHERE check_name = 'jobs'$$,
                  $$SELECT 'degraded', format('0 of %s scheduled', count(*)) FROM tr_jobs$$,
                  'jobs: without pg_cron in this database the check is degraded, not an error');
SELECT matches((SELECT detail FROM tr_health() WHERE check_name = 'jobs'), '^pg_cron is not installed in this database',
               'and says so');

SELECT is(pg_temp.verdict('unconverted_fees'), 'ok', 'unconverted_fees: every fee is counted in the quote currency');
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES ('H-FEE', 'decision', 'H-FEE', 'HF-A', '{"side": "buy", "qty": 1}');
SELECT tr_report_execution('H-FEE', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "hf1", "px": 10, "qty": 1, "fee": 0,
                                      "fee_charged": {"cost": "0.1", "currency": "XYZ", "unconverted": true}}]}');
SELECT is(pg_temp.verdict('unconverted_fees'), 'degraded', 'unconverted_fees: a fee that could not be priced makes health degraded');

-- venue differences: degraded while one is open and unacknowledged, with both figures
SELECT is(pg_temp.verdict('venue_differences'), 'ok', 'venue_differences: the exchanges show what the books say');
SELECT tr_reconcile_venue('hv_venue', NULL, '[{"asset": "HV", "symbols": ["HV-USD"], "exchange_qty": "3", "step": "0.01"}]');
SELECT results_eq($$SELECT status, value FROM tr_health() WHERE check_name = 'venue_differences'$$,
                  $$VALUES ('degraded', '1 balance drifts, 0 unknown open orders')$$,
                  'venue_differences: an unacknowledged balance drift is degraded, counted');
SELECT matches((SELECT detail FROM tr_health() WHERE check_name = 'venue_differences'),
               'HV at hv_venue: exchange 3, Trader 0 .*trader venues acknowledge ID --why',
               'the detail gives both figures and what to do');
SELECT tr_acknowledge_difference((SELECT id FROM tr_venue_differences WHERE venue = 'hv_venue'), 'a deposit');
SELECT is(pg_temp.verdict('venue_differences'), 'ok', 'an acknowledged difference no longer counts');

SELECT * FROM finish();
ROLLBACK;
