-- Orders sent without an answer: in flight, never claimed again to be sent, looked up
-- by the follow-ups until found, and failed past venue.in_flight_timeout with what the
-- lookups said.
BEGIN;
SELECT plan(14);

DELETE FROM tr_paper_orders; DELETE FROM tr_inbox; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;

INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, created_at) VALUES
    ('F1', 'decision', 'F1', 'SA', '{"side": "buy", "qty": 2}', '2026-01-01 00:00:00.001+00'),
    ('F2', 'decision', 'F2', 'SB', '{"side": "buy", "qty": 1}', '2026-01-01 00:00:00.002+00'),
    ('F3', 'decision', 'F3', 'SC', '{"side": "sell", "qty": 1}', '2026-01-01 00:00:00.003+00'),
    ('F4', 'decision', 'F4', 'SD', '{"side": "sell", "qty": 1}', '2026-01-01 00:00:00.004+00');
SELECT * FROM tr_claim_orders('w1', 4);
SELECT * FROM tr_record_intents('w1', '[{"order_id": "F1", "venue": "paper"}, {"order_id": "F2", "venue": "paper"},
                                        {"order_id": "F3", "venue": "paper"}]');

SELECT results_eq($$SELECT * FROM tr_mark_in_flight('w2', '[{"order_id": "F1", "error": "x"}]', '2026-01-01 00:01+00')$$,
                  ARRAY[]::text[], 'only the worker holding an order marks it in flight');
SELECT results_eq($$SELECT * FROM tr_mark_in_flight('w1', '[{"order_id": "F4", "error": "x"}]', '2026-01-01 00:01+00')$$,
                  ARRAY[]::text[], 'an order without a committed intent was never sent: it cannot be in flight');
SELECT results_eq($$SELECT * FROM tr_mark_in_flight('w1', '[{"order_id": "F1", "error": "RequestTimeout"}, {"order_id": "F2", "error": "RequestTimeout"},
                                                            {"order_id": "F3", "error": "DDoSProtection"}]', '2026-01-01 00:01+00') ORDER BY 1$$,
                  ARRAY['F1', 'F2', 'F3'], 'orders sent without an answer are marked in flight');
SELECT results_eq($$SELECT state, status::text, in_flight_since, lease_owner, last_error FROM tr_inbox WHERE id = 'F1'$$,
                  $$VALUES ('working', 'received', '2026-01-01 00:01+00'::timestamptz, NULL::text, 'RequestTimeout')$$,
                  'in flight: working without a lease, not yet answered, since when, and why');
SELECT results_eq($$SELECT order_id, status FROM tr_working_orders(ARRAY['paper']) ORDER BY 1$$,
                  $$VALUES ('F1', 'received'), ('F2', 'received'), ('F3', 'received')$$,
                  'in-flight orders are among the orders the follow-ups ask about');
SELECT is_empty($$SELECT * FROM tr_claim_orders('w3', 10, p_now => '2026-01-01 01:00+00')$$,
                'an order in flight is never claimed again, so never sent again, even long after its lease');

SELECT is_empty($$SELECT * FROM tr_in_flight_checked('[{"order_id": "F1"}, {"order_id": "F2", "error": "ExchangeNotAvailable"}]',
                                                     '2026-01-01 00:02+00')$$,
                'a lookup within venue.in_flight_timeout fails nothing');
SELECT is((SELECT last_error FROM tr_inbox WHERE id = 'F2'), 'ExchangeNotAvailable', 'what the lookup met is recorded');

SELECT results_eq($$SELECT order_id FROM tr_report_executions('[{"order_id": "F3", "report": {"status": "working", "venue": "paper", "venue_order_id": "P-3"}}]')$$,
                  ARRAY['F3'], 'found by a lookup: reported like any answer');
SELECT results_eq($$SELECT status::text, venue_order_id, in_flight_since IS NOT NULL FROM tr_inbox WHERE id = 'F3'$$,
                  $$VALUES ('working', 'P-3', true)$$, 'a found order is working, its time in flight kept as a record');

SELECT results_eq($$SELECT * FROM tr_in_flight_checked('[{"order_id": "F1"}, {"order_id": "F2", "error": "ExchangeNotAvailable"},
                                                         {"order_id": "F3"}]', '2026-01-01 00:03+00') ORDER BY 1$$,
                  ARRAY['F1', 'F2'], 'past venue.in_flight_timeout (2 minutes) the orders still not found are failed');
SELECT results_eq($$SELECT id, status::text, reason, detail LIKE '%not placed; not resent' FROM tr_inbox WHERE id IN ('F1', 'F2') ORDER BY id$$,
                  $$VALUES ('F1', 'failed', 'VENUE_ERROR', true), ('F2', 'failed', 'UNKNOWN_AT_VENUE', false)$$,
                  'never found where the venue answered: not placed (VENUE_ERROR); never asked: UNKNOWN_AT_VENUE, for an operator');
SELECT is((SELECT count(*)::int FROM tr_strand WHERE kind = 'execution' AND decision_id IN ('F1', 'F2') AND exec_metrics->>'status' = 'failed'),
          2, 'and both are reported to the Decision Maker');
SELECT lives_ok($$SELECT tr_mark_in_flight('w1', '"nonsense"'), tr_in_flight_checked('{"x": 1}')$$,
                'input that is not a list changes nothing and raises nothing');

SELECT * FROM finish();
ROLLBACK;
