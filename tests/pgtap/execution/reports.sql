-- Execution reports: what the worker tells the database after a venue answered.
BEGIN;
SELECT plan(52);

DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes; DELETE FROM tr_inbox;
DELETE FROM tr_execution_performance;

INSERT INTO dm_strand (id, lifecycle_id, symbol, timeframe, regime, order_spec, tags)
VALUES ('RE-1', 'LC-1', 'RE-A', '1m', 'trend', '{"side": "buy", "qty": "3", "ref_px": "100", "venue": "paper_a"}', ARRAY['trader:execute']);

SELECT throws_ok($$SELECT tr_report_execution('NOPE', '{"status": "working", "venue": "paper_a"}')$$,
                 'P0002', 'report for order NOPE refused: report for unknown order', 'a report for an unknown order is refused');

-- working, no fills yet
CREATE TEMP TABLE snap (step text, j jsonb);
SELECT tr_report_execution('RE-1', '{"status": "working", "venue": "paper_a", "venue_order_id": "V-1",
    "submitted_at": "2026-01-01T00:00:00Z", "tr_predict": {"fill_prob": 0.9, "slip_bps": 2, "latency_ms": 50},
    "lesson_metadata": {"lessons_applied": [], "confidence_boost": 1.0}}');
INSERT INTO snap SELECT 'working', to_jsonb(s) FROM tr_strand s WHERE kind = 'execution';
SELECT results_eq(
    $$SELECT kind, decision_id, lifecycle_id, parent_id, symbol, timeframe, regime, route_hint, tags,
             exec_metrics->>'status', exec_metrics->>'venue', exec_metrics->>'client_order_id', exec_metrics->>'venue_order_id',
             (exec_metrics->>'requested_qty')::numeric, (exec_metrics->>'filled_qty')::numeric
        FROM tr_strand WHERE kind = 'execution'$$,
    $$VALUES ('execution', 'RE-1', 'LC-1', 'RE-1', 'RE-A', '1m', 'trend', 'paper_a', ARRAY['dm:execution_report'],
              'working', 'paper_a', 'RE-1', 'V-1', 3::numeric, 0::numeric)$$,
    'a first report writes the execution strand: order, lifecycle, venue, status, quantities, tagged for the Decision Maker');
SELECT is((SELECT tr_predict->>'fill_prob' FROM tr_strand WHERE kind = 'execution'), '0.9', 'the prediction is recorded');
SELECT results_eq($$SELECT state, lease_owner FROM tr_inbox WHERE id = 'RE-1'$$, $$VALUES ('working', NULL::text)$$,
                  'a working order leaves the claim: working at the venue, no lease');

-- partial fill
SELECT tr_report_execution('RE-1', '{"status": "partially_filled", "venue": "paper_a",
    "fills": [{"fill_id": "T1", "px": "100.10", "qty": "1", "fee": "0.05", "ts": "2026-01-01T00:00:00.120Z"}]}');
INSERT INTO snap SELECT 'partial', to_jsonb(s) FROM tr_strand s WHERE kind = 'execution';
SELECT is((SELECT count(*) FROM tr_strand WHERE kind = 'execution'), 1::bigint, 'an order keeps one execution strand');
SELECT results_eq($$SELECT (exec_metrics->>'filled_qty')::numeric, exec_metrics->>'status', jsonb_array_length(fills) FROM tr_strand WHERE kind = 'execution'$$,
                  $$VALUES (1::numeric, 'partially_filled', 1)$$, 'a partial fill is recorded on the execution strand');
SELECT results_eq($$SELECT parent_id, fills->0->>'fill_id', exec_metrics->>'venue', tags FROM tr_strand WHERE kind = 'fill'$$,
                  $$SELECT id, 'T1', 'paper_a', '{}'::text[] FROM tr_strand WHERE kind = 'execution'$$,
                  'each fill gets a fill strand under the execution strand');
SELECT results_eq($$SELECT quantity, avg_price FROM tr_positions WHERE symbol = 'RE-A'$$, $$VALUES (1::numeric, 100.1::numeric)$$,
                  'the fill is applied to the position');
SELECT is((SELECT position_data->>'quantity' FROM tr_strand WHERE kind = 'execution')::numeric, 1::numeric,
          'the report carries the position after it');

-- a replay changes nothing
SELECT tr_report_execution('RE-1', '{"status": "partially_filled", "venue": "paper_a",
    "fills": [{"fill_id": "T1", "px": "100.10", "qty": "1", "fee": "0.05", "ts": "2026-01-01T00:00:00.120Z"},
              {"fill_id": "T1", "px": "100.10", "qty": "1", "fee": "0.05", "ts": "2026-01-01T00:00:00.120Z"}]}');
SELECT results_eq($$SELECT (SELECT count(*) FROM tr_strand WHERE kind = 'fill'), (SELECT quantity FROM tr_positions WHERE symbol = 'RE-A')$$,
                  $$VALUES (1::bigint, 1::numeric)$$, 'a fill reported twice (and twice within a report) counts once');
SELECT throws_ok($$SELECT tr_report_execution('RE-1', '{"status": "partially_filled", "venue": "paper_a", "fills": [{"fill_id": "T1", "px": "101", "qty": "1"}]}')$$,
                 '22023', 'report for order RE-1 refused: fill T1 reported again with another price or quantity', 'a fill_id reported with another price is refused');
SELECT throws_ok($$SELECT tr_report_execution('RE-1', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "T9", "px": "101", "qty": "2.5"}]}')$$,
                 '22023', 'report for order RE-1 refused: would be filled 3.5 of 3 ordered', 'a report that would fill more than was ordered is refused');
SELECT results_eq($$SELECT (SELECT count(*) FROM tr_strand WHERE kind = 'fill'), (SELECT quantity FROM tr_positions WHERE symbol = 'RE-A'),
                          (SELECT exec_metrics->>'status' FROM tr_strand WHERE kind = 'execution')$$,
                  $$VALUES (1::bigint, 1::numeric, 'partially_filled')$$, 'a refused report changed nothing');

-- filled
SELECT tr_report_execution('RE-1', '{"status": "filled", "venue": "paper_a",
    "fills": [{"fill_id": "T1", "px": "100.10", "qty": "1", "fee": "0.05", "ts": "2026-01-01T00:00:00.120Z"},
              {"fill_id": "T2", "px": "100.40", "qty": "2", "fee": "0.10", "ts": "2026-01-01T00:00:00.300Z"}]}');
INSERT INTO snap SELECT 'filled', to_jsonb(s) FROM tr_strand s WHERE kind = 'execution';
SELECT results_eq(
    $$SELECT (exec_metrics->>'filled_qty')::numeric, (exec_metrics->>'avg_px')::numeric, (exec_metrics->>'fees')::numeric,
             (exec_metrics->>'latency_ms')::numeric, (exec_metrics->>'slip_real_bps')::numeric, (exec_metrics->>'ref_px')::numeric,
             exec_metrics->>'ref_source'
        FROM tr_strand WHERE kind = 'execution'$$,
    $$VALUES (3::numeric, 100.3::numeric, 0.15::numeric, 300::numeric, 30::numeric, 100::numeric, 'order')$$,
    'exec_metrics: filled 3 at 100.30 against ref 100 is 30 bps of cost, 300 ms from submission to the last fill, fees summed');
SELECT is((SELECT count(*) FROM tr_strand WHERE kind = 'fill'), 2::bigint, 'only the new fill got a fill strand');
SELECT results_eq($$SELECT state FROM tr_inbox WHERE id = 'RE-1'$$, ARRAY['done'], 'a final report closes the work item');
SELECT results_eq(
    $$SELECT venue, symbol, slippage_bps, latency_ms, execution_score FROM tr_execution_performance$$,
    $$SELECT 'paper_a', 'RE-A', 30::numeric, 300, tr_execution_score(30, 300, 1)$$,
    'a final report writes its execution quality');
SELECT is((SELECT execution_id FROM tr_execution_performance), (SELECT id FROM tr_strand WHERE kind = 'execution'),
          'the quality row points at the execution strand');
SELECT lives_ok($$SELECT tr_report_execution('RE-1', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "T2", "px": "100.40", "qty": "2", "fee": "0.10"}]}')$$,
                'replaying the final report is harmless');
SELECT throws_ok($$SELECT tr_report_execution('RE-1', '{"status": "working", "venue": "paper_a"}')$$,
                 '55000', 'report for order RE-1 refused: already filled; it cannot become working', 'a final status does not change');
SELECT is((SELECT count(*) FROM tr_execution_performance), 1::bigint, 'one quality row per execution');

-- the routing rule on the report's own updates
SELECT is((SELECT count(*) FROM tr_route_notifications('tr_strand', (SELECT j FROM snap WHERE step = 'working'))), 1::bigint,
          'the first report notifies the Decision Maker');
SELECT is((SELECT count(*) FROM tr_route_notifications('tr_strand', (SELECT j FROM snap WHERE step = 'partial'), (SELECT j FROM snap WHERE step = 'working'))), 1::bigint,
          'working to partially_filled notifies');
SELECT is((SELECT count(*) FROM tr_route_notifications('tr_strand', (SELECT j FROM snap WHERE step = 'filled'), (SELECT j FROM snap WHERE step = 'partial'))), 1::bigint,
          'partially_filled to filled notifies');
SELECT is((SELECT count(*) FROM tr_route_notifications('tr_strand', (SELECT to_jsonb(s) FROM tr_strand s WHERE kind = 'execution'), (SELECT j FROM snap WHERE step = 'filled'))), 0::bigint,
          'a replay of the same status notifies nobody');

-- slippage sign and reference
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES
    ('SL-B', 'decision', 'SL-B', 'SL-A', '{"side": "buy",  "qty": 1, "ref_px": 200}'),
    ('SL-S', 'decision', 'SL-S', 'SL-A', '{"side": "sell", "qty": 1, "ref_px": 200}'),
    ('SL-G', 'decision', 'SL-G', 'SL-A', '{"side": "sell", "qty": 1, "ref_px": 200}'),
    ('SL-Q', 'decision', 'SL-Q', 'SL-A', '{"side": "buy",  "qty": 1}'),
    ('SL-X', 'decision', 'SL-X', 'SL-X', '{"side": "buy",  "qty": 1, "ref_px": 1}');
SELECT tr_report_execution('SL-B', '{"status": "filled", "venue": "v", "fills": [{"fill_id": "b", "px": 201, "qty": 1}]}');
SELECT tr_report_execution('SL-S', '{"status": "filled", "venue": "v", "fills": [{"fill_id": "s", "px": 199, "qty": 1}]}');
SELECT tr_report_execution('SL-G', '{"status": "filled", "venue": "v", "fills": [{"fill_id": "g", "px": 202, "qty": 1}]}');
SELECT is((SELECT exec_metrics->>'slip_real_bps' FROM tr_strand WHERE decision_id = 'SL-B' AND kind = 'execution')::numeric, 50::numeric,
          'a buy above its reference is positive slippage (cost)');
SELECT is((SELECT exec_metrics->>'slip_real_bps' FROM tr_strand WHERE decision_id = 'SL-S' AND kind = 'execution')::numeric, 50::numeric,
          'a sell below its reference is positive slippage (cost)');
SELECT is((SELECT exec_metrics->>'slip_real_bps' FROM tr_strand WHERE decision_id = 'SL-G' AND kind = 'execution')::numeric, -100::numeric,
          'a sell above its reference is negative slippage (improvement)');
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('SL-A', ARRAY['tr:market_update'], '{"bid": 99, "ask": 101}');
SELECT tr_report_execution('SL-Q', '{"status": "filled", "venue": "v", "fills": [{"fill_id": "q", "px": 100.5, "qty": 1}]}');
SELECT results_eq($$SELECT (exec_metrics->>'ref_px')::numeric, exec_metrics->>'ref_source', (exec_metrics->>'slip_real_bps')::numeric
                      FROM tr_strand WHERE decision_id = 'SL-Q' AND kind = 'execution'$$,
                  $$VALUES (100::numeric, 'quote', 50::numeric)$$, 'without ref_px the quote''s mark is the reference');
SELECT tr_report_execution('SL-X', '{"status": "filled", "venue": "v", "fills": [{"fill_id": "x", "px": 5000, "qty": 1}]}');
SELECT results_eq($$SELECT slippage_bps, execution_score FROM tr_execution_performance p JOIN tr_strand s ON s.id = p.execution_id WHERE s.decision_id = 'SL-X'$$,
                  $$VALUES (9999.9999::numeric, 0.4::numeric)$$, 'slippage beyond the column''s range is clamped, not an error (latency unknown scores 0.5)');

-- rejections
INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES ('RJ-1', 'RJ-A', '{"side": "fly"}', ARRAY['trader:execute']);
SELECT ok(tr_reject_decision('RJ-1', 'INVALID_ORDER_SPEC', 'side must be buy or sell') IS NOT NULL, 'tr_reject_decision returns the execution strand id');
SELECT results_eq($$SELECT exec_metrics->>'status', exec_metrics->>'reason', exec_metrics->>'detail', exec_metrics->>'venue', tags
                      FROM tr_strand WHERE decision_id = 'RJ-1'$$,
                  $$VALUES ('rejected', 'INVALID_ORDER_SPEC', 'side must be buy or sell', 'none', ARRAY['dm:execution_report'])$$,
                  'a rejection is an execution strand with status rejected and a stable reason, reported to the Decision Maker');
SELECT results_eq($$SELECT state FROM tr_inbox WHERE id = 'RJ-1'$$, ARRAY['done'], 'a rejected order is done');
SELECT is((SELECT count(*) FROM tr_execution_performance p JOIN tr_strand s ON s.id = p.execution_id WHERE s.decision_id = 'RJ-1'), 0::bigint,
          'a rejection has no execution quality row (nothing was executed)');
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES ('RJ-2', 'decision', 'RJ-2', 'RJ-A', '{"side": "buy", "qty": 1}');
SELECT tr_reject_decision('RJ-2', 'TRADING_HALTED', NULL);
SELECT throws_ok($$SELECT tr_report_execution('RJ-2', '{"status": "filled", "venue": "v", "fills": [{"fill_id": "r", "px": 1, "qty": 1}]}')$$,
                 '55000', 'report for order RJ-2 refused: already rejected; it cannot become filled', 'a rejected order cannot be filled later');
SELECT throws_ok($$SELECT tr_reject_decision('RE-1', 'bad code', NULL)$$, '22023', NULL, 'a reason must be a stable upper-case code');

-- malformed reports
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES ('MF-1', 'decision', 'MF-1', 'MF-A', '{"side": "buy", "qty": 2}'),
                                                                       ('MF-2', 'decision', 'MF-2', 'MF-A', '{"side": "buy"}');
SELECT throws_ok($$SELECT tr_report_execution('MF-1', '{"status": "done"}')$$, '22023',
                 'report for order MF-1 refused: unknown status ''done''', 'an unknown status is refused');
SELECT throws_ok($$SELECT tr_report_execution('MF-1', '{"status": "failed"}')$$, '22023', NULL, 'a failure without a reason code is refused');
SELECT throws_ok($$SELECT tr_report_execution('MF-1', '"filled"')$$, '22023', NULL, 'a report that is not an object is refused');
SELECT throws_ok($$SELECT tr_report_execution('MF-1', '{"status": "filled", "fills": {"px": 1}}')$$, '22023', NULL, 'fills must be an array');
SELECT throws_ok($$SELECT tr_report_execution('MF-1', '{"status": "filled", "fills": [{"px": 1, "qty": 1}]}')$$, '22023',
                 NULL, 'a fill without fill_id is refused');
SELECT throws_ok($$SELECT tr_report_execution('MF-1', '{"status": "filled", "fills": [{"fill_id": "a", "px": "NaN", "qty": 1}]}')$$, '22023',
                 NULL, 'a fill with a NaN price is refused');
SELECT throws_ok($$SELECT tr_report_execution('MF-2', '{"status": "filled", "fills": [{"fill_id": "a", "px": 1, "qty": 1}]}')$$, '22023',
                 'report for order MF-2 refused: fills for an order whose order_spec has no valid side and qty', 'fills for an order without a valid spec are refused');
SELECT throws_ok($$SELECT tr_report_execution('MF-1', '{"status": "working", "order_qty": 3}')$$, '22023', NULL,
                 'a report may not raise the quantity above what was asked');
SELECT tr_report_execution('MF-1', '{"status": "filled", "venue": "v", "order_qty": "1.5", "fills": [{"fill_id": "m", "px": 10, "qty": "1.5"}]}');
SELECT results_eq($$SELECT (exec_metrics->>'requested_qty')::numeric, (exec_metrics->>'order_qty')::numeric, (exec_metrics->>'filled_qty')::numeric
                      FROM tr_strand WHERE decision_id = 'MF-1' AND kind = 'execution'$$,
                  $$VALUES (2::numeric, 1.5::numeric, 1.5::numeric)$$, 'a scaled-down order reports requested, sent and filled quantities');

-- the score formula
SELECT is(tr_execution_score(0, 0, 1), 1.0000, 'no slippage, no latency, all filled: score 1');
SELECT is(tr_execution_score(10, 1000, 1), 0.8600, 'score = 0.5 x (1 - 10/50) + 0.2 x (1 - 1000/5000) + 0.3 x 1');
SELECT is(tr_execution_score(80, 9000, 0), 0.0000, 'slippage past 50 bps and latency past 5 s with nothing filled: score 0');
SELECT is(tr_execution_score(NULL, NULL, 1), 0.6500, 'unmeasured slippage and latency score a neutral 0.5 each');

-- An order_qty that is not a positive quantity is a refused report, never a failed batch.
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES
    ('OQ-1', 'decision', 'OQ-1', 'OQ-A', '{"side": "buy", "qty": 2}'),
    ('OQ-2', 'decision', 'OQ-2', 'OQ-A', '{"side": "buy", "qty": 2}');
SELECT throws_ok($$SELECT tr_report_execution('OQ-1', '{"status": "working", "venue": "v", "order_qty": -1}')$$,
                 '22023', 'report for order OQ-1 refused: order_qty -1 is not in (0, 2]',
                 'a negative order_qty is refused with its reason');
SELECT lives_ok($$SELECT * FROM tr_report_executions('[{"order_id": "OQ-2", "report": {"status": "working", "venue": "v", "order_qty": 0}}]')$$,
                'in a batch, an order_qty of zero does not fail the batch');
SELECT results_eq($$SELECT status::text, reason FROM tr_inbox WHERE id = 'OQ-2'$$,
                  $$VALUES ('failed', 'INVALID_VENUE_REPORT')$$,
                  'it fails that order as an invalid venue report');

SELECT * FROM finish();
ROLLBACK;
