-- Verify trader:intake/inbox
BEGIN;
SELECT id, source, source_id, lifecycle_id, symbol, timeframe, session_bucket, regime, signal_strength, order_spec,
       side, qty, order_type, limit_px, tif, requested_venue, ref_px, stop_loss_px, take_profit_px, reduce_only,
       venue, state, status, reason, detail, claim_count, last_error, lease_owner, lease_expires_at, created_at, updated_at
  FROM tr_inbox WHERE false;
-- The parse types a good spec and names the field of a bad one, without raising.
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES
    ('verify-1', 'decision', 'verify-1', 'X', '{"side": "buy", "qty": "1.5", "order_type": "limit", "limit_px": 10}'),
    ('verify-2', 'decision', 'verify-2', 'X', '{"side": "buy", "qty": -1}');
SELECT 1 / count(*) FROM tr_inbox WHERE id = 'verify-1' AND qty = 1.5 AND limit_px = 10 AND reason IS NULL;
SELECT 1 / count(*) FROM tr_inbox WHERE id = 'verify-2' AND qty IS NULL AND reason = 'INVALID_ORDER_SPEC' AND detail LIKE 'qty:%';
SELECT 1 / (tr_oversized_text('a', repeat('x', 129), NULL, NULL, NULL, NULL, NULL, NULL, '{}') LIKE 'lifecycle_id:%')::int;
ROLLBACK;
