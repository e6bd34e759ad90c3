-- Verify trader:intake/enqueue
BEGIN;
-- A decision with a negative quantity is rejected in its own transaction, with a report.
INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES ('verify-intake', 'X', '{"side": "buy", "qty": -1}', ARRAY['trader:execute']);
SELECT 1 / count(*) FROM tr_inbox WHERE id = 'verify-intake' AND status = 'rejected' AND state = 'done';
SELECT 1 / count(*) FROM tr_strand WHERE decision_id = 'verify-intake' AND kind = 'execution'
   AND exec_metrics->>'reason' = 'INVALID_ORDER_SPEC';
SELECT order_id, source, symbol, venue, reason, attempts, last_error, detail, created_at, failed_at FROM tr_dead_letters WHERE false;
ROLLBACK;
