-- Transaction cost analysis: every figure below is worked out by hand from the quotes
-- and fills of this script (docs/tca.md walks through B1).
BEGIN;
SELECT plan(18);

DELETE FROM tr_fills; DELETE FROM tr_inbox; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;
DELETE FROM tr_unapplied_input; DELETE FROM tr_execution_performance; DELETE FROM md_strand;

-- The formulas on their own.
SELECT is(tr_tca_shortfall('buy', 100, 100.5, 4, 6, 0.2, 102), 14.2::numeric,
          'shortfall of a buy: (100.5 - 100) x 4 + fees 0.2 + (102 - 100) x 6 unfilled = 14.2');
SELECT is(tr_tca_shortfall('sell', 100, 99.8, 5, 0, 0.1, NULL), 1.1::numeric,
          'shortfall of a sell: -(99.8 - 100) x 5 + 0.1, nothing unfilled, no mark: 1.1');
SELECT is(tr_tca_shortfall('buy', 50, 50.25, 2, 2, 0, NULL), 0.5::numeric,
          'without a last mark the unfilled quantity costs nothing');
SELECT is(tr_tca_markout_bps('sell', 99.8, 101), -120.2405::numeric,
          'a sell at 99.8 followed by a mid of 101: -1.2 / 99.8 x 10^4 = -120.2405 bps, adverse selection is negative');
SELECT results_eq($$SELECT tr_tca_size_bucket(x) FROM unnest(ARRAY[999.99, 1000, 9999, 10000, 100000, NULL]) x$$,
                  ARRAY['<1k', '1k-10k', '1k-10k', '10k-100k', '>=100k', 'unknown'],
                  'size buckets are half-open at 1k, 10k and 100k of notional at arrival');

-- Quotes for TCA-A, inserted in time order (ts in market_data; the rows themselves are written now).
INSERT INTO md_strand (id, symbol, market_data, tags) VALUES
    ('Q1', 'TCA-A', '{"bid": 99, "ask": 101, "ts": "2026-01-01T09:59:00Z"}', ARRAY['tr:market_update']),
    ('Q3', 'TCA-A', '{"bid": 99.9, "ask": 100.1, "ts": "2026-01-01T10:00:02Z"}', ARRAY['tr:market_update']);
-- Two bad quotes that would otherwise be B1's arrival: a stale one (the Trader records it)
-- and a crossed one tagged only after its insert (no trigger saw it; tr_parse_quote refuses it).
INSERT INTO md_strand (id, symbol, market_data, tags) VALUES
    ('Q-STALE', 'TCA-A', '{"bid": 89, "ask": 91, "ts": "2026-01-01T09:59:50Z"}', ARRAY['tr:market_update']),
    ('Q-CROSSED', 'TCA-A', '{"bid": 92, "ask": 90, "ts": "2026-01-01T09:59:55Z"}', ARRAY['other']);
UPDATE md_strand SET tags = ARRAY['tr:market_update'] WHERE id = 'Q-CROSSED';
SELECT is((SELECT reason FROM tr_unapplied_input WHERE strand_id = 'Q-STALE'), 'STALE_QUOTE', 'the stale quote was turned away');

INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, created_at) VALUES
    ('B1', 'decision', 'B1', 'TCA-A', '{"side": "buy",  "qty": "10", "ref_px": "100.5"}', '2026-01-01T10:00:00Z'),
    ('S1', 'decision', 'S1', 'TCA-A', '{"side": "sell", "qty": "5"}',                    '2026-01-01T10:00:30Z'),
    ('R1', 'decision', 'R1', 'TCA-B', '{"side": "buy",  "qty": "4", "ref_px": "50"}',    '2026-01-01T10:00:00Z'),
    ('N1', 'decision', 'N1', 'TCA-A', '{"side": "buy",  "qty": "1"}',                    '2026-01-01T10:00:00Z');
-- Reported while Q3 (mark 100) is the latest quote, so exec_metrics' realized slippage
-- uses ref_px 100.5 for B1, the mark 100 for S1, ref_px 50 for R1.
SELECT tr_report_execution('B1', '{"status": "cancelled", "venue": "paper_a", "submitted_at": "2026-01-01T10:00:00.500Z",
    "tr_predict": {"slip_bps": -10},
    "fills": [{"fill_id": "b1", "px": "100.5", "qty": "4", "fee": "0.2", "ts": "2026-01-01T10:00:01Z"}]}');
SELECT tr_report_execution('S1', '{"status": "filled", "venue": "paper_a", "submitted_at": "2026-01-01T10:00:39.900Z",
    "tr_predict": {"slip_bps": 30},
    "fills": [{"fill_id": "s1", "px": "99.8", "qty": "5", "fee": "0.1", "ts": "2026-01-01T10:00:40Z"}]}');
SELECT tr_report_execution('R1', '{"status": "cancelled", "venue": "paper_b", "submitted_at": "2026-01-01T10:00:00.100Z",
    "tr_predict": {"slip_bps": 60},
    "fills": [{"fill_id": "r1", "px": "50.25", "qty": "2", "ts": "2026-01-01T10:00:00.200Z"}]}');
SELECT tr_report_execution('N1', '{"status": "working", "venue": "paper_a", "submitted_at": "2026-01-01T10:00:00.500Z"}');

INSERT INTO md_strand (id, symbol, market_data, tags) VALUES
    ('Q4', 'TCA-A', '{"bid": 100.5, "ask": 101.5, "ts": "2026-01-01T10:01:00Z"}', ARRAY['tr:market_update']),
    ('Q5', 'TCA-A', '{"bid": 101.5, "ask": 102.5, "ts": "2026-01-01T12:01:02Z"}', ARRAY['tr:market_update']);

-- B1: buy 10, arrival Q1's mid 100 (not the stale 90 nor the crossed 91, not its ref_px 100.5);
--     4 @ 100.5: 50 bps; cost 2 + fees 0.2 + (102 - 100) x 6 = 14.2 = 142 bps of 1000;
--     markouts from 10:00:01: +1 s Q3 (100): -49.7512; +5 s Q4 (101): +49.7512;
--     +60 s = 10:01:01, next quote Q5 at 12:01:02, past 2 h: none. 500 ms.
-- S1: sell 5, arrival Q3's mid 100 (no ref_px); 5 @ 99.8: 20 bps; 1 + 0.1 = 1.1 = 22 bps of 500;
--     from 10:00:40: +1 s and +5 s Q4 (101): -120.2405; +60 s Q5 (102, within 2 h): -220.4409. 100 ms.
-- R1: buy 4 of TCA-B, no quote ever: arrival ref_px 50; 2 @ 50.25: 50 bps; 0.5, no mark so no
--     opportunity cost: 25 bps of 200; no markouts. 100 ms.
SELECT results_eq(
    $$SELECT order_id, venue, arrival_px, arrival_source, arrival_slip_bps, execution_cost, opportunity_cost, shortfall,
             shortfall_bps, markout_1s_bps, markout_5s_bps, markout_60s_bps, fill_ratio, latency_ms, size_bucket, hour_utc
        FROM tr_tca_orders ORDER BY order_id$$,
    $$VALUES ('B1', 'paper_a', 100::numeric, 'quote', 50::numeric, 2::numeric, 12::numeric, 14.2::numeric,
              142::numeric, -49.7512::numeric, 49.7512::numeric, NULL::numeric, 0.4::numeric, 500::numeric, '1k-10k', 10),
             ('R1', 'paper_b', 50, 'ref_px', 50, 0.5, 0, 0.5, 25, NULL, NULL, NULL, 0.5, 100, '<1k', 10),
             ('S1', 'paper_a', 100, 'quote', 20, 1, 0, 1.1, 22, -120.2405, -120.2405, -220.4409, 1, 100, '<1k', 10)$$,
    'per order: arrival, slippage, shortfall with opportunity cost, markouts found and not found, fill ratio, latency, bucket, hour');
SELECT is_empty($$SELECT 1 FROM tr_tca_orders WHERE order_id = 'N1'$$, 'an order without fills has no TCA row');

SELECT results_eq(
    $$SELECT order_id, arrival_px FROM tr_tca_order_rows('2026-01-01T10:00:10Z', '2026-01-01T11:00:00Z')$$,
    $$VALUES ('S1', 100::numeric)$$,
    'a time range takes the orders decided in it, with the same figures');
SELECT results_eq(
    $$SELECT order_id, arrival_source FROM tr_tca_order_rows('-infinity', 'infinity', interval '30 seconds') ORDER BY order_id$$,
    $$VALUES ('B1', 'ref_px'), ('R1', 'ref_px'), ('S1', 'quote')$$,
    'a quote older than the lookback is no arrival price (B1''s last quote was 60 s before it)');

SELECT results_eq(
    $$SELECT dimension, grp, orders, filled_qty, fill_ratio, mean_slip_bps, p50_slip_bps, p90_slip_bps, shortfall, shortfall_bps,
             mean_markout_1s_bps, mean_markout_60s_bps, p50_latency_ms, p99_latency_ms
        FROM tr_tca_summary WHERE dimension = 'venue'$$,
    $$VALUES ('venue', 'paper_a', 2::bigint, 9::numeric, 0.6::numeric, 35::numeric, 20::numeric, 50::numeric, 15.3::numeric,
              102::numeric, -84.9959::numeric, -220.4409::numeric, 100::numeric, 500::numeric),
             ('venue', 'paper_b', 1, 2, 0.5, 50, 50, 50, 0.5, 25, NULL, NULL, 100, 100)$$,
    'by venue: fill ratio 9 of 15, mean and percentiles of slippage, shortfall 15.3 of 1500 notional, mean markouts, latency');
SELECT results_eq($$SELECT grp, orders FROM tr_tca_summary WHERE dimension = 'size_bucket'$$,
                  $$VALUES ('1k-10k', 1::bigint), ('<1k', 2::bigint)$$, 'by size bucket');
SELECT results_eq($$SELECT grp, orders FROM tr_tca_summary WHERE dimension IN ('symbol', 'hour_utc') ORDER BY dimension, grp$$,
                  $$VALUES ('10', 3::bigint), ('TCA-A', 2::bigint), ('TCA-B', 1::bigint)$$, 'by symbol and by UTC hour');

-- Prediction error = predicted - realized (exec_metrics): B1 -10 - 0 = -10, S1 30 - 20 = +10, R1 60 - 50 = +10.
SELECT results_eq(
    $$SELECT venue, orders, mean_predicted_bps, mean_realized_bps, mean_error_bps, mean_abs_error_bps FROM tr_tca_prediction_error$$,
    $$VALUES ('paper_a', 2::bigint, 10::numeric, 10::numeric, 0::numeric, 10::numeric),
             ('paper_b', 1, 60, 50, 10, 10)$$,
    'per venue: errors that cancel show a zero mean error but not a zero mean absolute error');

-- Each role reads each view.
SET LOCAL ROLE tr_worker;
SELECT lives_ok($$SELECT count(*) FROM tr_tca_orders; SELECT count(*) FROM tr_tca_summary;
                  SELECT count(*) FROM tr_tca_prediction_error$$, 'tr_worker selects every TCA view');
SELECT lives_ok($$SELECT count(*) FROM tr_tca_summary_rows(now() - interval '7 days', now())$$,
                'tr_worker calls the TCA functions for a time range');
RESET ROLE;
SET LOCAL ROLE tr_inspector;
SELECT lives_ok($$SELECT count(*) FROM tr_tca_orders; SELECT count(*) FROM tr_tca_summary;
                  SELECT count(*) FROM tr_tca_prediction_error$$, 'tr_inspector selects every TCA view');
SELECT throws_ok($$SELECT tr_tca_quotes(ARRAY['TCA-A'], '-infinity')$$, '42501', NULL,
                 'the quote parsing behind them is not open to readers');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
