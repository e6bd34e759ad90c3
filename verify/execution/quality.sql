-- Verify trader:execution/quality
BEGIN;
SELECT id, execution_id, venue, symbol, execution_score, slippage_bps, latency_ms, lesson_metadata, created_at
  FROM tr_execution_performance WHERE false;
ROLLBACK;
