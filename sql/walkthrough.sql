-- A decision's whole path, by hand: psql -f sql/walkthrough.sql (make psql < sql/walkthrough.sql)
-- Plays the Market Data module, the Decision Maker and the worker in turn. Safe to
-- rerun: every run makes a new decision.
\set ON_ERROR_STOP on
\pset footer off
\echo '== 1. Market Data publishes a quote (md_strand, tagged tr:market_update)'
INSERT INTO md_strand (symbol, tags, market_data)
VALUES ('WALK-BTC', ARRAY['tr:market_update'], jsonb_build_object('bid', 64990, 'ask', 65010, 'ts', clock_timestamp()));
SELECT symbol, bid, ask, mark, quote_ts FROM tr_quotes WHERE symbol = 'WALK-BTC';

\echo '== 2. The Decision Maker asks for a buy (dm_strand, tagged trader:execute)'
SELECT tr_ulid() AS decision_id \gset
INSERT INTO dm_strand (id, lifecycle_id, kind, symbol, timeframe, signal_strength, order_spec, tags)
VALUES (:'decision_id', 'walk-' || :'decision_id', 'decision', 'WALK-BTC', '5m', 0.8,
        '{"side": "buy", "qty": "0.5", "order_type": "market", "tif": "ioc", "ref_px": "65000"}', ARRAY['trader:execute']);
\echo 'It is a work item now, in the same transaction (nothing is lost if no worker listens):'
SELECT id, source, state, order_spec FROM tr_inbox WHERE id = :'decision_id';

\echo '== 3. A worker claims it under a lease'
SELECT id, state, lease_owner, lease_expires_at FROM tr_claim_orders('walkthrough', 1) WHERE id = :'decision_id';

\echo '== 4. The venue filled it in two parts; the worker reports (one call per venue answer)'
SELECT tr_report_execution(:'decision_id', jsonb_build_object(
    'status', 'partially_filled', 'venue', 'paper_a', 'venue_order_id', 'walk-1', 'submitted_at', now(),
    'tr_predict', '{"fill_prob": 0.98, "slip_bps": 2, "latency_ms": 40}',
    'fills', jsonb_build_array(jsonb_build_object('fill_id', 'walk-t1-' || :'decision_id', 'px', 65010, 'qty', 0.3, 'fee', 1.9503, 'ts', now() + interval '20 ms'))))
    AS execution_strand_id;
SELECT tr_report_execution(:'decision_id', jsonb_build_object(
    'status', 'filled', 'venue', 'paper_a',
    'fills', jsonb_build_array(jsonb_build_object('fill_id', 'walk-t2-' || :'decision_id', 'px', 65020, 'qty', 0.2, 'fee', 1.3004, 'ts', now() + interval '45 ms'))))
    AS execution_strand_id;

\echo '== 5. The execution report the Decision Maker reads (tr_strand, tagged dm:execution_report)'
SELECT id, decision_id, route_hint, exec_metrics->>'status' AS status, exec_metrics->>'filled_qty' AS filled_qty,
       exec_metrics->>'avg_px' AS avg_px, exec_metrics->>'slip_real_bps' AS slip_bps,
       exec_metrics->>'latency_ms' AS latency_ms, exec_metrics->>'fees' AS fees, tags
  FROM tr_strand WHERE decision_id = :'decision_id' AND kind = 'execution';
\echo 'and one fill strand per fill:'
SELECT id, parent_id, fills->0->>'fill_id' AS fill_id, fills->0->>'px' AS px, fills->0->>'qty' AS qty
  FROM tr_strand WHERE decision_id = :'decision_id' AND kind = 'fill' ORDER BY id;

\echo '== 6. The position and its PnL'
SELECT * FROM tr_position_pnl WHERE symbol = 'WALK-BTC';

\echo '== 7. The market moves: the position is re-marked in the quote''s own transaction'
INSERT INTO md_strand (symbol, tags, market_data)
VALUES ('WALK-BTC', ARRAY['tr:market_update'], jsonb_build_object('bid', 65490, 'ask', 65510, 'ts', clock_timestamp()));
SELECT symbol, quantity, avg_price, mark_price, unrealized_pnl, realized_pnl, total_pnl FROM tr_position_pnl WHERE symbol = 'WALK-BTC';

\echo '== 8. A quote the Trader cannot use is recorded, not applied, and Market Data''s insert still succeeds'
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('WALK-BTC', ARRAY['tr:market_update'], '{"bid": 65600, "ask": 65500}');
SELECT source_table, reason, count, last_detail FROM tr_unapplied_summary;

\echo '== 9. Execution quality and the pipeline'
SELECT * FROM tr_execution_quality WHERE symbol = 'WALK-BTC';
SELECT * FROM tr_pipeline;
