-- Verify trader:execution/claim_batch
BEGIN;
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES
    ('verify-ok', 'decision', 'verify-ok', 'VX', '{"side": "buy", "qty": 1}'),
    ('verify-bad', 'decision', 'verify-bad', 'VX', '{"side": "up", "qty": 1}');
-- One call claims both, checks both, and gives a context only to the one that passed.
SELECT 1 / count(*) FROM tr_claim_batch('verify', 10)
 WHERE (id = 'verify-ok' AND check_reason = 'OK' AND context->'order'->>'id' = 'verify-ok')
    OR (id = 'verify-bad' AND check_reason = 'INVALID_ORDER_SPEC' AND context IS NULL)
HAVING count(*) = 2;
ROLLBACK;
