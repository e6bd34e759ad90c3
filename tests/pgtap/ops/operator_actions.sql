-- Operator actions: a dead letter retried or acknowledged, an order whose outcome at
-- the venue was unknown resolved with what the exchange says, a working order
-- cancelled on request; each recorded with who, when and why, and each refused with
-- a hint when the order cannot take it.
BEGIN;
SELECT plan(40);

DELETE FROM tr_execution_performance; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;
DELETE FROM tr_fills; DELETE FROM tr_inbox; DELETE FROM tr_operator_actions;

-- An order that failed: PROCESSING_ERROR never sent, or UNKNOWN_AT_VENUE after its intent.
CREATE FUNCTION pg_temp.failed_order(p_id text, p_reason text, p_qty numeric DEFAULT 2) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, claim_count, last_error, submit_intent_at, venue)
    VALUES (p_id, 'decision', p_id, 'OP-1', jsonb_build_object('side', 'buy', 'qty', p_qty, 'ref_px', 100), 5, 'adapter crashed',
            CASE WHEN p_reason = 'UNKNOWN_AT_VENUE' THEN '2026-01-01T00:00:00Z'::timestamptz END,
            CASE WHEN p_reason = 'UNKNOWN_AT_VENUE' THEN 'paper_a' END);
    PERFORM tr_report_execution(p_id, jsonb_build_object('status', 'failed', 'reason', p_reason, 'detail', 'out of attempts'));
END $$;

SELECT pg_temp.failed_order('OP-DEAD', 'PROCESSING_ERROR');
SELECT pg_temp.failed_order('OP-GONE', 'PROCESSING_ERROR');
SELECT pg_temp.failed_order('OP-UNK', 'UNKNOWN_AT_VENUE');
SELECT pg_temp.failed_order('OP-CXL', 'UNKNOWN_AT_VENUE');
SELECT pg_temp.failed_order('OP-NP', 'UNKNOWN_AT_VENUE');
SELECT pg_temp.failed_order('OP-SHORT', 'UNKNOWN_AT_VENUE');

SELECT results_eq($$SELECT order_id, reason, next_step FROM tr_dead_letters ORDER BY order_id$$,
    $$VALUES ('OP-CXL', 'UNKNOWN_AT_VENUE', 'check it at the exchange, then trader orders resolve'),
             ('OP-DEAD', 'PROCESSING_ERROR', 'trader orders retry, or trader orders acknowledge'),
             ('OP-GONE', 'PROCESSING_ERROR', 'trader orders retry, or trader orders acknowledge'),
             ('OP-NP', 'UNKNOWN_AT_VENUE', 'check it at the exchange, then trader orders resolve'),
             ('OP-SHORT', 'UNKNOWN_AT_VENUE', 'check it at the exchange, then trader orders resolve'),
             ('OP-UNK', 'UNKNOWN_AT_VENUE', 'check it at the exchange, then trader orders resolve')$$,
    'the dead letters are listed with the operator''s next step');

-- refusals common to every action
SELECT throws_ok($$SELECT tr_retry_order('OP-NONE', 'why')$$, 'P0002', 'no order OP-NONE', 'an action on an unknown order raises P0002');
SELECT throws_ok($$SELECT tr_retry_order('OP-DEAD', '  ')$$, '22023', 'an operator action needs a reason',
                 'an action without a reason is refused');

-- retry
SELECT throws_ok($$SELECT tr_retry_order('OP-UNK', 'try again')$$, '55000', NULL,
                 'an order that may be at its venue is never retried: it would be sent twice');
SELECT lives_ok($$SELECT tr_retry_order('OP-DEAD', 'venue adapter fixed in 1.4.2')$$, 'a dead letter that was never sent is retried');
SELECT results_eq($$SELECT state, status::text, reason, claim_count, last_error, venue FROM tr_inbox WHERE id = 'OP-DEAD'$$,
                  $$VALUES ('pending', 'received', NULL::text, 0, NULL::text, NULL::text)$$,
                  'a retried order is pending again with its attempts reset, as if just received');
SELECT results_eq($$SELECT action, actor = session_user, reason, details->'previous'->>'last_error', details->'previous'->>'attempts'
                      FROM tr_operator_actions WHERE order_id = 'OP-DEAD'$$,
                  $$VALUES ('retry', true, 'venue adapter fixed in 1.4.2', 'adapter crashed', '5')$$,
                  'the retry is recorded with who, why, and the last error and attempts it cleared');
SELECT is_empty($$SELECT FROM tr_dead_letters WHERE order_id = 'OP-DEAD'$$, 'a retried order leaves the dead letters');
SELECT is((SELECT id FROM tr_claim_orders('w-op', 10, '10 seconds', clock_timestamp(), NULL) WHERE id = 'OP-DEAD'), 'OP-DEAD',
          'a retried order is claimed by the next worker');
SELECT throws_ok($$SELECT tr_retry_order('OP-DEAD', 'again')$$, '55000', NULL, 'an order that is no longer a dead letter is not retried');

-- acknowledge
SELECT throws_ok($$SELECT tr_acknowledge_order('OP-UNK', 'give up')$$, '55000', NULL,
                 'an order that may be at its venue is resolved with the exchange''s answer, not acknowledged');
SELECT lives_ok($$SELECT tr_acknowledge_order('OP-GONE', 'decision expired; DM told', 'alice')$$, 'a dead letter is acknowledged');
SELECT is((SELECT status::text || ' ' || reason FROM tr_inbox WHERE id = 'OP-GONE'), 'failed PROCESSING_ERROR',
          'an acknowledged order stays failed with its reason');
SELECT is_empty($$SELECT FROM tr_dead_letters WHERE order_id = 'OP-GONE'$$, 'an acknowledged order leaves the dead letters');
SELECT results_eq($$SELECT actor, details->>'session_user' = session_user FROM tr_operator_actions WHERE order_id = 'OP-GONE'$$,
                  $$VALUES ('alice', true)$$,
                  'an actor named by the caller is recorded, with the login that took the action beside it');
SELECT throws_ok($$SELECT tr_acknowledge_order('OP-GONE', 'twice')$$, '55000', NULL, 'an order acknowledged already is not acknowledged again');
SELECT tr_retry_order('OP-GONE', 'one more try');
UPDATE tr_inbox SET claim_count = 5, state = 'claimed', lease_owner = 'w', lease_expires_at = clock_timestamp() WHERE id = 'OP-GONE';
SELECT tr_report_execution('OP-GONE', '{"status": "failed", "reason": "PROCESSING_ERROR"}');
SELECT isnt_empty($$SELECT FROM tr_dead_letters WHERE order_id = 'OP-GONE'$$,
                  'an acknowledgement holds for one failure: retried and failed again, the order is listed again');

-- resolve: filled
SELECT throws_ok($$SELECT tr_resolve_order('OP-GONE', 'filled', '[{"fill_id": "x", "px": 1, "qty": 2}]', 'why')$$, '55000', NULL,
                 'only an order failed UNKNOWN_AT_VENUE is resolved');
SELECT throws_ok($$SELECT tr_resolve_order('OP-UNK', 'lost', '[]', 'why')$$, '22023', NULL, 'an unknown outcome is refused');
SELECT throws_ok($$SELECT tr_resolve_order('OP-UNK', 'filled', '[]', 'why')$$, '22023', 'a filled order needs its fills',
                 'a filled resolution without fills is refused');
SELECT throws_ok($$SELECT tr_resolve_order('OP-UNK', 'filled', '[{"fill_id": "x", "px": 1, "qty": 2, "ts": "yesterday-ish"}]', 'why')$$,
                 '22023', NULL, 'a fill whose time cannot be read is refused rather than stamped now');
SELECT tr_resolve_order('OP-UNK', 'filled', '[{"fill_id": "E-1", "px": 101, "qty": 1.5, "fee": 0.1, "ts": "2026-01-01T00:00:01Z"},
                                              {"fill_id": "E-2", "px": 102, "qty": 0.5, "ts": "2026-01-01T00:00:02Z"}]',
                        'binance shows it filled (ticket 4411)');
SELECT results_eq($$SELECT status::text, reason, state, filled_qty, avg_px, fees FROM tr_inbox WHERE id = 'OP-UNK'$$,
                  $$VALUES ('filled', NULL::text, 'done', 2::numeric, 101.25::numeric, 0.1::numeric)$$,
                  'a resolved order is filled with the exchange''s fills, as any report would leave it');
SELECT is((SELECT quantity FROM tr_positions WHERE symbol = 'OP-1'), 2::numeric, 'the fills reached the position');
SELECT results_eq($$SELECT count(*) FILTER (WHERE kind = 'execution'), count(*) FILTER (WHERE kind = 'fill'),
                           max(exec_metrics->>'status') FILTER (WHERE kind = 'execution')
                      FROM tr_strand WHERE decision_id = 'OP-UNK'$$,
                  $$VALUES (1::bigint, 2::bigint, 'filled')$$,
                  'the Decision Maker''s one execution strand now says filled, with a fill strand per fill');
SELECT is((SELECT count(*) FROM tr_execution_performance p JOIN tr_inbox i ON i.execution_id = p.execution_id WHERE i.id = 'OP-UNK'),
          1::bigint, 'the resolved order has its execution quality, as any final order with fills');
SELECT results_eq($$SELECT details->>'outcome', jsonb_array_length(details->'fills'), details->'previous'->>'reason'
                      FROM tr_operator_actions WHERE order_id = 'OP-UNK'$$,
                  $$VALUES ('filled', 2, 'UNKNOWN_AT_VENUE')$$, 'the resolution is recorded with the outcome, the fills and the reason it replaced');

-- resolve: cancelled, never placed, fills that disagree
SELECT tr_resolve_order('OP-CXL', 'cancelled', '[{"fill_id": "C-1", "px": 100, "qty": 0.5}]', 'cancelled at the exchange after a partial fill');
SELECT results_eq($$SELECT status::text, filled_qty FROM tr_inbox WHERE id = 'OP-CXL'$$, $$VALUES ('cancelled', 0.5::numeric)$$,
                  'a cancelled resolution keeps its partial fills');
SELECT tr_resolve_order('OP-NP', 'never_placed', '[]', 'not in the exchange''s order history');
SELECT results_eq($$SELECT status::text, reason, detail = 'resolved by ' || session_user || ': not in the exchange''s order history'
                      FROM tr_inbox WHERE id = 'OP-NP'$$,
                  $$VALUES ('failed', 'NEVER_PLACED', true)$$,
                  'a never placed order stays failed with reason NEVER_PLACED and who resolved it');
SELECT throws_ok($$SELECT tr_resolve_order('OP-SHORT', 'filled', '[{"fill_id": "S-1", "px": 100, "qty": 1}]', 'why')$$, '22023',
                 'order OP-SHORT: fills add up to 1 of 2, which is not filled', 'fills that do not add up to the order are refused for filled');
SELECT results_eq($$SELECT status::text, reason, filled_qty FROM tr_inbox WHERE id = 'OP-SHORT'$$,
                  $$VALUES ('failed', 'UNKNOWN_AT_VENUE', 0::numeric)$$, 'a refused resolution leaves nothing behind');
SELECT is_empty($$SELECT FROM tr_operator_actions WHERE order_id = 'OP-SHORT'$$, 'a refused resolution is not in the audit trail');

-- cancel
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES
    ('OP-W', 'decision', 'OP-W', 'OP-2', '{"side": "sell", "qty": 1, "order_type": "limit", "limit_px": 200}'),
    ('OP-P', 'decision', 'OP-P', 'OP-2', '{"side": "sell", "qty": 1}');
SELECT tr_report_execution('OP-W', '{"status": "working", "venue": "paper_a"}');
SELECT throws_ok($$SELECT tr_request_cancel('OP-P', 'stop it')$$, '55000', NULL, 'an order not working at a venue is not cancelled there');
SELECT lives_ok($$SELECT tr_request_cancel('OP-W', 'fat finger')$$, 'a cancel of a working order is requested');
SELECT results_eq($$SELECT order_id, symbol, reason FROM tr_orders_to_cancel()$$, $$VALUES ('OP-W', 'OP-2', 'CANCELLED_BY_OPERATOR')$$,
                  'the worker finds the requested cancel with its reason code');
SELECT throws_ok($$SELECT tr_request_cancel('OP-W', 'again')$$, '55000', 'a cancel of order OP-W was already requested',
                 'a cancel is requested once');
SELECT tr_report_execution('OP-W', '{"status": "cancelled", "reason": "CANCELLED_BY_OPERATOR"}');
SELECT results_eq($$SELECT status::text, reason FROM tr_inbox WHERE id = 'OP-W'$$, $$VALUES ('cancelled', 'CANCELLED_BY_OPERATOR')$$,
                  'the cancel the worker reports carries the operator reason code');
SELECT is_empty($$SELECT * FROM tr_orders_to_cancel()$$, 'a cancelled order is no longer to be cancelled');

-- who may act
SET LOCAL ROLE tr_worker;
SELECT throws_ok($$SELECT tr_request_cancel('OP-W', 'worker')$$, '42501', NULL, 'the worker cannot take operator actions');
RESET ROLE;
SET LOCAL ROLE tr_operator;
SELECT throws_ok($$SELECT tr_request_cancel('OP-W', 'operator')$$, '55000', NULL, 'the operator role may call the actions (refused here only because the order is final)');
SELECT lives_ok($$SELECT * FROM tr_operator_actions$$, 'the operator reads the audit trail');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
