-- Verify trader:tr_inbox
BEGIN;
SELECT id, source, source_id, lifecycle_id, symbol, timeframe, session_bucket, regime, signal_strength,
       order_spec, venue, state, claim_count, lease_owner, lease_expires_at, created_at, updated_at
  FROM tr_inbox WHERE false;
SELECT 1 / count(*) FROM pg_catalog.pg_trigger WHERE tgname = 'tr_enqueue_decision' AND tgrelid = 'dm_strand'::regclass;
SELECT has_function_privilege('tr_claim_orders(text, integer, interval, timestamptz, text[])', 'execute');
ROLLBACK;
