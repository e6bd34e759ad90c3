-- Verify trader:core/peer_strands
-- Whoever made them, the tables must carry the columns of the contract.
BEGIN;
SELECT id, lifecycle_id, parent_id, module, kind, symbol, timeframe, session_bucket, regime,
       signal_strength, order_spec, tags, created_at, updated_at
  FROM dm_strand WHERE false;
SELECT id, lifecycle_id, parent_id, module, kind, symbol, timeframe, session_bucket, regime,
       risk_update, tags, created_at, updated_at
  FROM rm_strand WHERE false;
SELECT id, lifecycle_id, parent_id, module, kind, symbol, timeframe, session_bucket, regime,
       market_data, tags, created_at, updated_at
  FROM md_strand WHERE false;
ROLLBACK;
