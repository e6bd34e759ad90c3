-- The inspection views: what an operator reads in psql to judge positions, venues,
-- the pipeline and the input that was turned away. Each number is built from
-- reports and fills whose outcome is worked out by hand below.
BEGIN;
SELECT plan(18);

DELETE FROM tr_inbox; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;
DELETE FROM tr_unapplied_input; DELETE FROM tr_execution_performance;

-- tr_pipeline
SELECT results_eq($$SELECT pending, claimed, working, done, oldest_pending_age, expired_leases FROM tr_pipeline$$,
                  $$VALUES (0::bigint, 0::bigint, 0::bigint, 0::bigint, NULL::interval, 0::bigint)$$,
                  'an empty inbox shows zero everywhere and no pending age');

INSERT INTO tr_inbox (id, source, source_id, state, lease_owner, lease_expires_at, created_at) VALUES
    ('P-OLD',   'decision', 'P-OLD',   'pending', NULL, NULL, clock_timestamp() - interval '1 hour'),
    ('P-NEW',   'decision', 'P-NEW',   'pending', NULL, NULL, clock_timestamp() - interval '1 minute'),
    ('C-DEAD',  'decision', 'C-DEAD',  'claimed', 'w1', clock_timestamp() - interval '1 second', clock_timestamp()),
    ('C-LIVE',  'decision', 'C-LIVE',  'claimed', 'w2', clock_timestamp() + interval '1 hour', clock_timestamp()),
    ('W-1',     'decision', 'W-1',     'working', 'w3', clock_timestamp() - interval '1 hour', clock_timestamp()),
    ('D-1',     'decision', 'D-1',     'done',    NULL, NULL, clock_timestamp() - interval '2 hours'),
    ('D-2',     'monitor',  'D-2',     'done',    NULL, NULL, clock_timestamp());
SELECT results_eq($$SELECT pending, claimed, working, done FROM tr_pipeline$$,
                  $$VALUES (2::bigint, 2::bigint, 1::bigint, 2::bigint)$$,
                  'the pipeline counts work items by state');
SELECT is((SELECT expired_leases FROM tr_pipeline), 1::bigint,
          'expired_leases counts claimed items whose lease has run out, not live claims nor working items');
SELECT ok((SELECT oldest_pending_age >= interval '1 hour' AND oldest_pending_age < interval '1 hour 1 minute' FROM tr_pipeline),
          'oldest_pending_age is the age of the oldest pending item, not of older items in other states');
UPDATE tr_inbox SET state = 'done' WHERE state = 'pending';
SELECT is((SELECT oldest_pending_age FROM tr_pipeline), NULL::interval, 'with nothing pending there is no pending age');

-- tr_position_pnl
SELECT tr_apply_fill('PV-L', 'buy', 2, 100, 1);
SELECT tr_mark_position('PV-L', 110);
SELECT tr_apply_fill('PV-S', 'sell', 3, 50);
SELECT tr_mark_position('PV-S', 45);
SELECT tr_apply_fill('PV-F', 'buy', 1, 10);
SELECT tr_apply_fill('PV-F', 'sell', 1, 12, 0.5);
SELECT results_eq(
    $$SELECT symbol, quantity, avg_price, mark_price, unrealized_pnl, realized_pnl, total_pnl, side
        FROM tr_position_pnl ORDER BY symbol$$,
    $$VALUES ('PV-F',  0::numeric,   0::numeric,  12::numeric,  0::numeric, 1.5::numeric, 1.5::numeric, 'flat'),
             ('PV-L',  2::numeric, 100::numeric, 110::numeric, 20::numeric,  -1::numeric,  19::numeric, 'long'),
             ('PV-S', -3::numeric,  50::numeric,  45::numeric, 15::numeric,   0::numeric,  15::numeric, 'short')$$,
    'each position shows its side, mark, and total PnL = realized (fees included) + unrealized; a closed one stays as flat');
SELECT results_eq($$SELECT symbol, opened_at IS NOT NULL, marked_at IS NOT NULL FROM tr_position_pnl ORDER BY symbol$$,
                  $$VALUES ('PV-F', false, true), ('PV-L', true, true), ('PV-S', true, true)$$,
                  'an open position shows when its cycle opened; a flat one has no open cycle');

-- tr_execution_quality. Hand-worked, per order (bps = side x (avg - ref) / ref x 10^4):
--   O1 paper_a BTC buy 2 @ 100.5 vs 100, filled     -> 50 bps, 250 ms, fee 0.10
--   O2 paper_a BTC buy 1 of 4 @ 200 vs 200, cancelled ->  0 bps, 1000 ms, fee 0.05
--   O3 paper_a BTC sell 1 @ 99.9 vs 100, filled     -> 10 bps, 500 ms, no fee
--   O4 paper_a BTC buy 0 of 2, working              -> no slippage, no latency
--   O5 paper_b BTC buy 1 @ 100 vs 100               ->  0 bps, 100 ms, fee 0.01
--   O6 paper_a ETH buy 1 @ 10.1 vs 10               -> 100 bps, 2000 ms
--   O7 rejected before any venue                    -> venue none, not a venue's quality
DELETE FROM tr_inbox;
INSERT INTO tr_inbox (id, source, source_id, lifecycle_id, symbol, order_spec) VALUES
    ('O1', 'decision', 'O1', 'LC-1', 'BTC-USD', '{"side": "buy",  "qty": "2", "ref_px": "100"}'),
    ('O2', 'decision', 'O2', 'LC-2', 'BTC-USD', '{"side": "buy",  "qty": "4", "ref_px": "200"}'),
    ('O3', 'decision', 'O3', 'LC-3', 'BTC-USD', '{"side": "sell", "qty": "1", "ref_px": "100"}'),
    ('O4', 'decision', 'O4', 'LC-4', 'BTC-USD', '{"side": "buy",  "qty": "2", "ref_px": "100"}'),
    ('O5', 'decision', 'O5', 'LC-5', 'BTC-USD', '{"side": "buy",  "qty": "1", "ref_px": "100"}'),
    ('O6', 'decision', 'O6', 'LC-6', 'ETH-USD', '{"side": "buy",  "qty": "1", "ref_px": "10"}'),
    ('O7', 'decision', 'O7', 'LC-7', 'BTC-USD', '{"side": "buy",  "qty": "1", "ref_px": "100"}');
SELECT tr_report_execution('O1', '{"status": "filled", "venue": "paper_a", "submitted_at": "2026-01-01T00:00:00Z",
    "fills": [{"fill_id": "f1", "px": "100.5", "qty": "2", "fee": "0.1", "ts": "2026-01-01T00:00:00.250Z"}]}');
SELECT tr_report_execution('O2', '{"status": "cancelled", "venue": "paper_a", "submitted_at": "2026-01-01T00:01:00Z",
    "fills": [{"fill_id": "f2", "px": "200", "qty": "1", "fee": "0.05", "ts": "2026-01-01T00:01:01Z"}]}');
SELECT tr_report_execution('O3', '{"status": "filled", "venue": "paper_a", "submitted_at": "2026-01-01T00:02:00Z",
    "fills": [{"fill_id": "f3", "px": "99.9", "qty": "1", "ts": "2026-01-01T00:02:00.500Z"}]}');
SELECT tr_report_execution('O4', '{"status": "working", "venue": "paper_a", "submitted_at": "2026-01-01T00:03:00Z"}');
SELECT tr_report_execution('O5', '{"status": "filled", "venue": "paper_b", "submitted_at": "2026-01-01T00:04:00Z",
    "fills": [{"fill_id": "f5", "px": "100", "qty": "1", "fee": "0.01", "ts": "2026-01-01T00:04:00.100Z"}]}');
SELECT tr_report_execution('O6', '{"status": "filled", "venue": "paper_a", "submitted_at": "2026-01-01T00:05:00Z",
    "fills": [{"fill_id": "f6", "px": "10.1", "qty": "1", "ts": "2026-01-01T00:05:02Z"}]}');
SELECT tr_reject_decision('O7', 'POSITION_EXCEEDS_MAX', 'over the position limit');

SELECT results_eq(
    $$SELECT venue, symbol, orders, fill_ratio, mean_slip_bps, p50_slip_bps, p95_slip_bps, mean_latency_ms, fees
        FROM tr_execution_quality ORDER BY venue, symbol$$,
    $$VALUES ('paper_a', 'BTC-USD', 4::bigint, 0.4444::numeric, 20::numeric, 10::numeric, 46::numeric, 583.3::numeric, 0.15::numeric),
             ('paper_a', 'ETH-USD', 1::bigint, 1::numeric, 100::numeric, 100::numeric, 100::numeric, 2000::numeric, 0::numeric),
             ('paper_b', 'BTC-USD', 1::bigint, 1::numeric, 0::numeric, 0::numeric, 0::numeric, 100::numeric, 0.01::numeric)$$,
    'per venue and symbol: orders, filled/ordered (4 of 9), slippage mean/p50/p95 and mean latency over filled orders, fees summed');
SELECT is_empty($$SELECT * FROM tr_execution_quality WHERE venue = 'none'$$,
                'an order rejected before reaching a venue counts against no venue');

-- tr_recent_reports. Reports written in one transaction share now(), so their times
-- are spread out by hand, one minute apart in order of the order ids.
UPDATE tr_strand SET updated_at = '2026-01-01 00:00:00+00'::timestamptz + substr(decision_id, 2)::int * interval '1 minute'
 WHERE kind = 'execution';
SELECT results_eq($$SELECT order_id FROM tr_recent_reports$$,
                  ARRAY['O7', 'O6', 'O5', 'O4', 'O3', 'O2', 'O1'],
                  'recent reports are newest first, one per order: fill and position strands are not reports');
SELECT tr_report_execution('O4', '{"status": "partially_filled", "venue": "paper_a",
    "fills": [{"fill_id": "f4", "px": "100.2", "qty": "1", "ts": "2026-01-01T00:03:00.300Z"}]}');
SELECT is((SELECT order_id FROM tr_recent_reports LIMIT 1), 'O4', 'a new report on an older order moves it to the top');
SELECT results_eq(
    $$SELECT id, order_id, lifecycle_id, symbol, status, venue, side, requested_qty, filled_qty, avg_px, slip_bps, latency_ms, fees, reason
        FROM tr_recent_reports WHERE order_id = 'O1'$$,
    $$SELECT id, 'O1', 'LC-1', 'BTC-USD', 'filled', 'paper_a', 'buy', 2::numeric, 2::numeric, 100.5::numeric, 50::numeric,
             250::numeric, 0.1::numeric, NULL::text
        FROM tr_strand WHERE kind = 'execution' AND decision_id = 'O1'$$,
    'a report shows its strand, order, lifecycle, symbol, status, venue, side, quantities, price, slippage, latency and fees');
SELECT results_eq(
    $$SELECT status, venue, requested_qty, filled_qty, avg_px, reason FROM tr_recent_reports WHERE order_id = 'O7'$$,
    $$VALUES ('rejected', 'none', 1::numeric, 0::numeric, NULL::numeric, 'POSITION_EXCEEDS_MAX')$$,
    'a rejected order shows its reason code and that nothing filled');
SELECT results_eq(
    $$SELECT status, requested_qty, filled_qty, avg_px FROM tr_recent_reports WHERE order_id = 'O2'$$,
    $$VALUES ('cancelled', 4::numeric, 1::numeric, 200::numeric)$$,
    'a cancelled order shows how much of it filled before the cancel');
INSERT INTO tr_strand (kind, decision_id, exec_metrics, updated_at)
SELECT 'execution', 'OLD-' || g, '{"status": "filled", "venue": "none"}', '2025-01-01 00:00:00+00'::timestamptz + g * interval '1 second'
  FROM generate_series(1, 100) AS g;
SELECT results_eq($$SELECT count(*), count(*) FILTER (WHERE order_id LIKE 'O_'), min(substr(order_id, 5)::int) FILTER (WHERE order_id LIKE 'OLD-%')
                      FROM tr_recent_reports$$,
                  $$VALUES (100::bigint, 7::bigint, 8)$$,
                  'recent reports are capped at 100; the oldest (here OLD-1 to OLD-7) drop off first');

-- tr_unapplied_summary
INSERT INTO md_strand (symbol, tags, market_data) VALUES
    ('BTC-USD', ARRAY['tr:market_update'], '{"bid": 101, "ask": 100}'),
    ('ETH-USD', ARRAY['tr:market_update'], '{"bid": 11, "ask": 10}'),
    ('ETH-USD', ARRAY['tr:market_update'], '{"ts": "2026-01-01T00:00:00Z"}');
SELECT results_eq($$SELECT source_table, reason, count FROM tr_unapplied_summary ORDER BY source_table, reason$$,
                  $$VALUES ('md_strand', 'CROSSED_QUOTE', 2::bigint), ('md_strand', 'MISSING_PRICE', 1::bigint)$$,
                  'unapplied input is counted by table and reason');
-- Rows as if from separate transactions: within one, created_at is now() for every row
-- and the latest would be a tie.
INSERT INTO tr_unapplied_input (source_table, strand_id, symbol, reason, detail, created_at) VALUES
    ('rm_strand', 'R1', NULL, 'MISSING_PRICE', 'the earlier detail', '2026-01-01 00:00:00+00'),
    ('rm_strand', 'R2', NULL, 'MISSING_PRICE', 'the later detail',   '2026-01-01 00:05:00+00'),
    ('rm_strand', 'R3', NULL, 'MISSING_PRICE', 'the middle detail',  '2026-01-01 00:02:00+00');
SELECT results_eq($$SELECT count, last_at, last_detail FROM tr_unapplied_summary WHERE source_table = 'rm_strand'$$,
                  $$VALUES (3::bigint, '2026-01-01 00:05:00+00'::timestamptz, 'the later detail')$$,
                  'a reason shows when it last happened and the latest detail, whatever the insertion order');
SELECT is((SELECT count FROM tr_unapplied_summary WHERE source_table = 'md_strand' AND reason = 'MISSING_PRICE'), 1::bigint,
          'the same reason from another table is counted apart');

SELECT * FROM finish();
ROLLBACK;
