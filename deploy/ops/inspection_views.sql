-- Deploy trader:ops/inspection_views
-- What an operator asks in psql: positions and PnL, execution quality, the
-- pipeline, recent reports, input that was not applied.
BEGIN;

CREATE VIEW tr_position_pnl AS
SELECT symbol, quantity, avg_price, mark_price, unrealized_pnl, realized_pnl,
       realized_pnl + unrealized_pnl AS total_pnl,
       CASE WHEN quantity > 0 THEN 'long' WHEN quantity < 0 THEN 'short' ELSE 'flat' END AS side,
       cycle->>'opened_at' AS opened_at, marked_at, updated_at
  FROM tr_positions;

COMMENT ON VIEW tr_position_pnl IS 'Positions with realized, unrealized and total PnL, one row per symbol ever traded.';

CREATE VIEW tr_execution_quality AS
SELECT exec_metrics->>'venue' AS venue,
       symbol,
       count(*) AS orders,
       round(sum((exec_metrics->>'filled_qty')::numeric) / nullif(sum((exec_metrics->>'order_qty')::numeric), 0), 4) AS fill_ratio,
       round(avg((exec_metrics->>'slip_real_bps')::numeric), 4) AS mean_slip_bps,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY (exec_metrics->>'slip_real_bps')::float8)::numeric, 4) AS p50_slip_bps,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY (exec_metrics->>'slip_real_bps')::float8)::numeric, 4) AS p95_slip_bps,
       round(avg((exec_metrics->>'latency_ms')::numeric), 1) AS mean_latency_ms,
       sum((exec_metrics->>'fees')::numeric) AS fees
  FROM tr_strand
 WHERE kind = 'execution' AND exec_metrics->>'venue' <> 'none'
 GROUP BY 1, 2;

COMMENT ON VIEW tr_execution_quality IS
    'Per venue and symbol: orders sent, fill ratio, mean/p50/p95 slippage in bps (positive is cost), mean latency, fees. Percentiles are float estimates for reading, never bookkeeping.';

CREATE VIEW tr_pipeline AS
SELECT count(*) FILTER (WHERE state = 'pending')  AS pending,
       count(*) FILTER (WHERE state = 'claimed')  AS claimed,
       count(*) FILTER (WHERE state = 'working')  AS working,
       count(*) FILTER (WHERE state = 'done')     AS done,
       clock_timestamp() - min(created_at) FILTER (WHERE state = 'pending') AS oldest_pending_age,
       count(*) FILTER (WHERE state = 'claimed' AND lease_expires_at < clock_timestamp()) AS expired_leases
  FROM tr_inbox;

COMMENT ON VIEW tr_pipeline IS 'Work items by state, the age of the oldest pending one, and claims whose lease has expired.';

CREATE VIEW tr_recent_reports AS
SELECT id, decision_id AS order_id, lifecycle_id, symbol,
       exec_metrics->>'status' AS status,
       exec_metrics->>'venue' AS venue,
       order_spec->>'side' AS side,
       (exec_metrics->>'requested_qty')::numeric AS requested_qty,
       (exec_metrics->>'filled_qty')::numeric AS filled_qty,
       (exec_metrics->>'avg_px')::numeric AS avg_px,
       (exec_metrics->>'slip_real_bps')::numeric AS slip_bps,
       (exec_metrics->>'latency_ms')::numeric AS latency_ms,
       (exec_metrics->>'fees')::numeric AS fees,
       exec_metrics->>'reason' AS reason,
       updated_at
  FROM tr_strand
 WHERE kind = 'execution'
 ORDER BY updated_at DESC
 LIMIT 100;

COMMENT ON VIEW tr_recent_reports IS 'The 100 most recently updated execution reports, newest first.';

CREATE VIEW tr_unapplied_summary AS
SELECT source_table, reason, count(*) AS count, max(created_at) AS last_at,
       (array_agg(detail ORDER BY created_at DESC))[1] AS last_detail
  FROM tr_unapplied_input
 GROUP BY source_table, reason;

COMMENT ON VIEW tr_unapplied_summary IS 'Peer input that was not applied, by table and reason, with the latest detail.';

GRANT SELECT ON tr_position_pnl, tr_execution_quality, tr_pipeline, tr_recent_reports, tr_unapplied_summary
   TO tr_worker, tr_inspector;

COMMIT;
