-- What the worker commits around a venue call: the intent before sending (only for
-- items it still holds), the batch of reports after, the orders resting at venues,
-- and claims restricted to the venues a worker serves.
BEGIN;
SELECT plan(30);

DELETE FROM tr_paper_orders; DELETE FROM tr_inbox; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;
DELETE FROM tr_execution_performance;

-- claims by venue -------------------------------------------------------------------
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, created_at) VALUES
    ('V0', 'decision', 'V0', 'SYM', '{"side": "buy", "qty": 1}', '2026-01-01 00:00:00.001+00'),
    ('VA', 'decision', 'VA', 'SYM', '{"side": "buy", "qty": 1, "venue": "paper_a"}', '2026-01-01 00:00:00.002+00'),
    ('VB', 'decision', 'VB', 'SYM', '{"side": "buy", "qty": 1, "venue": "paper_b"}', '2026-01-01 00:00:00.003+00');
SELECT results_eq($$SELECT id FROM tr_claim_orders('w1', 10, p_venues => ARRAY['paper_a']) ORDER BY id$$, ARRAY['V0', 'VA'],
                  'a worker serving paper_a claims the orders that name no venue or paper_a');
SELECT results_eq($$SELECT state, lease_owner FROM tr_inbox WHERE id = 'VB'$$, $$VALUES ('pending', NULL::text)$$,
                  'an order naming paper_b is left pending by a worker that does not serve paper_b');
SELECT results_eq($$SELECT id FROM tr_claim_orders('w2', 10, p_venues => ARRAY['paper_b'])$$, ARRAY['VB'],
                  'the order naming paper_b goes to a worker serving paper_b');

-- intents -------------------------------------------------------------------------
DELETE FROM tr_inbox;
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, created_at) VALUES
    ('S1', 'decision', 'S1', 'SA', '{"side": "buy", "qty": 2}', '2026-01-01 00:00:00.001+00'),
    ('S2', 'decision', 'S2', 'SB', '{"side": "buy", "qty": 1}', '2026-01-01 00:00:00.002+00'),
    ('S3', 'decision', 'S3', 'SC', '{"side": "sell", "qty": 1}', '2026-01-01 00:00:00.003+00');
SELECT * FROM tr_claim_orders('w1', 1);
SELECT * FROM tr_claim_orders('w2', 1);

SELECT results_eq(
    $$SELECT * FROM tr_record_intents('w1', '[{"order_id": "S1", "venue": "paper_a", "curation": {"order_qty": 2, "tr_predict": {"fill_prob": 0.9}}},
                                             {"order_id": "S2", "venue": "paper_a", "curation": {"order_qty": 1}},
                                             {"order_id": "S3", "venue": "paper_a", "curation": {"order_qty": 1}},
                                             {"order_id": "NOPE", "venue": "paper_a", "curation": {}}]')$$,
    ARRAY['S1'],
    'tr_record_intents returns exactly the items the worker holds under its claim: only those may be sent');
SELECT results_eq(
    $$SELECT venue, curation, submit_intent_at IS NOT NULL, state, lease_owner FROM tr_inbox WHERE id = 'S1'$$,
    $$VALUES ('paper_a', '{"order_qty": 2, "tr_predict": {"fill_prob": 0.9}}'::jsonb, true, 'claimed', 'w1')$$,
    'a recorded intent keeps the venue, the curation and when it was committed, and the claim stays the worker''s');
SELECT ok((SELECT lease_expires_at >= submit_intent_at + tr_setting('inbox.submit_lease')::interval FROM tr_inbox WHERE id = 'S1'),
          'recording the intent extends the lease to inbox.submit_lease, so nobody reconciles the order while it is being sent');
SELECT results_eq(
    $$SELECT id, venue, curation, submit_intent_at FROM tr_inbox WHERE id IN ('S2', 'S3') ORDER BY id$$,
    $$VALUES ('S2', NULL::text, NULL::jsonb, NULL::timestamptz), ('S3', NULL, NULL, NULL)$$,
    'no intent is recorded for an item claimed by another worker or still pending');
SELECT results_eq(
    $$SELECT * FROM tr_record_intents('w2', '[{"order_id": "S2", "venue": "paper_b", "curation": {"order_qty": 1}}]')$$,
    ARRAY['S2'], 'the worker holding an item records its intent');

-- batch reports -------------------------------------------------------------------
-- S2 comes first in the array; the batch is processed in symbol order (SA before SB).
CREATE TEMP TABLE batch AS
SELECT * FROM tr_report_executions(
    '[{"order_id": "S2", "report": {"status": "working", "venue": "paper_b", "venue_order_id": "V-S2"}},
      {"order_id": "S1", "report": {"status": "partially_filled", "venue": "paper_a", "venue_order_id": "V-S1",
                                    "fills": [{"fill_id": "F1", "px": 100, "qty": 1, "fee": 0.02, "ts": "2026-01-01T00:00:01Z"}]}}]')
       WITH ORDINALITY AS b(order_id, execution_id, n);
SELECT results_eq(
    $$SELECT b.order_id, b.execution_id = s.id FROM batch b LEFT JOIN tr_strand s ON s.kind = 'execution' AND s.decision_id = b.order_id ORDER BY b.n$$,
    $$VALUES ('S1', true), ('S2', true)$$,
    'a batch report returns each order with its execution strand id, in symbol order');
SELECT results_eq(
    $$SELECT i.id, i.state, i.lease_owner, s.exec_metrics->>'status', s.exec_metrics->>'venue_order_id'
        FROM tr_inbox i JOIN tr_strand s ON s.kind = 'execution' AND s.decision_id = i.id WHERE i.id IN ('S1', 'S2') ORDER BY i.id$$,
    $$VALUES ('S1', 'working', NULL::text, 'partially_filled', 'V-S1'), ('S2', 'working', NULL, 'working', 'V-S2')$$,
    'every report of a batch is recorded in the one call');
SELECT is((SELECT quantity FROM tr_positions WHERE symbol = 'SA'), 1::numeric, 'a fill reported in a batch reaches the position');
SELECT is_empty($$SELECT * FROM tr_record_intents('w1', '[{"order_id": "S1", "venue": "paper_b", "curation": {}}]')$$,
                'once reported, an order is no longer the worker''s claim: no new intent, so it is never sent twice');

-- a batch never raises on what a report says ------------------------------------------
SELECT lives_ok(
    $$SELECT * FROM tr_report_executions('[{"order_id": "NOPE", "report": {"status": "working"}},
                                           {"order_id": "S3", "report": {"status": "done"}}]')$$,
    'a batch with a report for an unknown order and a malformed one is recorded without an error');
SELECT is((SELECT reason FROM tr_unapplied_input WHERE source_table = 'report' AND strand_id = 'NOPE'), 'INVALID_VENUE_REPORT',
          'a report for an unknown order is kept as unapplied input, with its reason');
SELECT results_eq($$SELECT status::text, reason, state, detail FROM tr_inbox WHERE id = 'S3'$$,
                  $$VALUES ('failed', 'INVALID_VENUE_REPORT', 'done', 'unknown status ''done''')$$,
                  'a malformed report fails its order with INVALID_VENUE_REPORT and the problem as its detail');
SELECT is((SELECT exec_metrics->>'status' FROM tr_strand WHERE kind = 'execution' AND decision_id = 'S3'), 'failed',
          'and the Decision Maker hears of that failure like any other');
SELECT is((SELECT state FROM tr_inbox WHERE id = 'S2'), 'working', 'the other orders of the batch are untouched');

-- working orders ----------------------------------------------------------------------
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, state, venue)
VALUES ('S4', 'decision', 'S4', 'SD', '{"side": "buy", "qty": 1}', 'done', 'paper_a');
SELECT results_eq(
    $$SELECT order_id, venue, symbol, status, filled_qty, fill_count, curation FROM tr_working_orders(ARRAY['paper_a'])$$,
    $$VALUES ('S1', 'paper_a', 'SA', 'partially_filled', 1::numeric, 1, '{"order_qty": 2, "tr_predict": {"fill_prob": 0.9}}'::jsonb)$$,
    'tr_working_orders lists the working orders of the given venue with their last status, filled quantity and fill count');
SELECT results_eq(
    $$SELECT order_id, venue, symbol, status, filled_qty, fill_count FROM tr_working_orders(ARRAY['paper_b'])$$,
    $$VALUES ('S2', 'paper_b', 'SB', 'working', 0::numeric, 0)$$,
    'an order resting without fills is listed with filled quantity 0 and no fills');
SELECT results_eq($$SELECT order_id FROM tr_working_orders(NULL)$$, ARRAY['S1', 'S2'],
                  'NULL venues lists the working orders of every venue, oldest first; pending and done items are not listed');
SELECT tr_report_executions('[{"order_id": "S1", "report": {"status": "filled", "venue": "paper_a",
    "fills": [{"fill_id": "F1", "px": 100, "qty": 1, "fee": 0.02, "ts": "2026-01-01T00:00:01Z"},
              {"fill_id": "F3", "px": 100.2, "qty": 1, "fee": 0.02, "ts": "2026-01-01T00:00:02Z"}]}}]');
SELECT is_empty($$SELECT * FROM tr_working_orders(ARRAY['paper_a'])$$, 'a filled order leaves the working list');

-- privileges ------------------------------------------------------------------------
SET ROLE tr_worker;
SELECT lives_ok($$SELECT * FROM tr_record_intents('w1', '[{"order_id": "S3", "venue": "paper_a", "curation": {}}]')$$,
                'the worker can record intents');
SELECT lives_ok($$SELECT * FROM tr_report_executions('[{"order_id": "S3", "report": {"status": "rejected", "reason": "TRADING_HALTED"}}]')$$,
                'the worker can report a batch');
SELECT lives_ok($$SELECT * FROM tr_working_orders(NULL)$$, 'the worker can list working orders');
SELECT lives_ok($$SELECT tr_paper_submit('paper_a', '{"client_order_id": "P1", "symbol": "SYM", "side": "buy", "qty": 1}')$$,
                'the worker can submit to the paper venue');
SELECT lives_ok($$SELECT * FROM tr_paper_submit_batch('paper_a', '[{"client_order_id": "P2", "symbol": "SYM", "side": "buy", "qty": 1}]')$$,
                'the worker can submit a batch to the paper venue');
SELECT lives_ok($$SELECT tr_paper_order('paper_a', 'P1')$$, 'the worker can look a paper order up');
SELECT lives_ok($$SELECT tr_paper_cancel('paper_a', 'P1')$$, 'the worker can cancel a paper order');
SELECT throws_ok($$UPDATE tr_paper_orders SET status = 'filled'$$, '42501', NULL,
                 'the worker cannot change the paper venue''s book except through the venue''s functions');
SELECT throws_ok($$UPDATE tr_venues SET enabled = false$$, '42501', NULL, 'the worker cannot change venue configuration');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
