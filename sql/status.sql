-- The module at a glance: psql -f sql/status.sql
\pset footer off
\echo '== pipeline (work items)'
SELECT * FROM tr_pipeline;
\echo '== positions'
SELECT symbol, side, quantity, avg_price, mark_price, unrealized_pnl, realized_pnl, total_pnl FROM tr_position_pnl ORDER BY symbol;
\echo '== execution quality by venue and symbol'
SELECT * FROM tr_execution_quality ORDER BY venue, symbol;
\echo '== recent reports'
SELECT order_id, symbol, side, status, venue, requested_qty, filled_qty, avg_px, slip_bps, latency_ms, reason, updated_at
  FROM tr_recent_reports LIMIT 20;
\echo '== input that was not applied'
SELECT * FROM tr_unapplied_summary ORDER BY last_at DESC;
\echo '== venue differences (open; trader venues acknowledge ID --why ...)'
SELECT id, venue, kind, subject, exchange_figure, trader_figure, accepted_offset, drift, acknowledged, last_seen_at
  FROM tr_open_venue_differences;
