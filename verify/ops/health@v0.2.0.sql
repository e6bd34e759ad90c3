-- Verify trader:ops/health
-- Every check answers, and the time passed in decides the pending age: an order that
-- waited past health.max_pending_age makes the verdict degraded, a fresh one does not.
BEGIN;

SELECT 1 / (count(*) = 7 AND count(*) FILTER (WHERE status IN ('ok', 'degraded', 'down')) = 7)::integer FROM tr_health();
SELECT 1 / (status = 'ok')::integer FROM tr_health() WHERE check_name = 'module';

DELETE FROM tr_inbox WHERE id = 'verify-health';
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec)
VALUES ('verify-health', 'decision', 'verify-health', 'VERIFY-1', '{"side": "buy", "qty": 1}');
SELECT 1 / (status = 'degraded')::integer
  FROM tr_health((SELECT min(created_at) FROM tr_inbox WHERE state = 'pending') + tr_setting('health.max_pending_age')::interval + interval '1 second')
 WHERE check_name = 'pending_age';
SELECT 1 / (status = 'ok')::integer
  FROM tr_health((SELECT min(created_at) FROM tr_inbox WHERE state = 'pending'))
 WHERE check_name = 'pending_age';

ROLLBACK;
