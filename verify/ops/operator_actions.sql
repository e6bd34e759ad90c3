-- Verify trader:ops/operator_actions
-- A dead letter is retried back to pending, with the action recorded; an order that
-- may be at its venue is refused a retry; a cancel request is listed for the worker.
BEGIN;
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, claim_count, last_error)
VALUES ('verify-dead', 'decision', 'verify-dead', 'VERIFY', '{"side": "buy", "qty": 1}', 5, 'boom'),
       ('verify-working', 'decision', 'verify-working', 'VERIFY', '{"side": "buy", "qty": 1}', 1, NULL);
SELECT tr_report_execution('verify-dead', '{"status": "failed", "reason": "PROCESSING_ERROR"}');
SELECT tr_report_execution('verify-working', '{"status": "working", "venue": "paper_a"}');
SELECT 1 / count(*) FROM tr_dead_letters WHERE order_id = 'verify-dead' AND next_step IS NOT NULL;
SELECT tr_retry_order('verify-dead', 'verify');
SELECT 1 / count(*) FROM tr_inbox WHERE id = 'verify-dead' AND state = 'pending' AND status = 'received' AND claim_count = 0;
SELECT 1 / count(*) FROM tr_operator_actions WHERE order_id = 'verify-dead' AND action = 'retry'
   AND details->'previous'->>'last_error' = 'boom' AND actor = session_user;
DO $$
BEGIN
    PERFORM tr_retry_order('verify-working', 'verify');
    RAISE EXCEPTION 'an order working at a venue was retried';
EXCEPTION WHEN object_not_in_prerequisite_state THEN
    NULL;
END
$$;
SELECT tr_request_cancel('verify-working', 'verify');
SELECT 1 / count(*) FROM tr_orders_to_cancel() WHERE order_id = 'verify-working' AND reason = 'CANCELLED_BY_OPERATOR';
SELECT 1 / (count(*) = 2)::integer FROM tr_reason_codes WHERE code IN ('CANCELLED_BY_OPERATOR', 'NEVER_PLACED');
ROLLBACK;
