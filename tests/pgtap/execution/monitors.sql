-- Exit monitoring: stops and take-profits act the moment a quote crosses them, once.
BEGIN;
SELECT plan(28);

DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes; DELETE FROM tr_inbox; DELETE FROM tr_risk_state;

CREATE FUNCTION pg_temp.quote(p_symbol text, p_bid numeric, p_ask numeric) RETURNS void LANGUAGE sql AS $$
    INSERT INTO md_strand (symbol, tags, market_data)
    VALUES (p_symbol, ARRAY['tr:market_update'], jsonb_build_object('bid', p_bid, 'ask', p_ask))
$$;
CREATE FUNCTION pg_temp.monitor(p_order text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT monitoring_state FROM tr_strand WHERE kind = 'monitoring' AND decision_id = p_order
$$;

-- A long entry with both conditions, filled in two parts.
INSERT INTO dm_strand (id, lifecycle_id, symbol, timeframe, order_spec, tags)
VALUES ('M-L', 'LC-ML', 'MON-L', '1h', '{"side": "buy", "qty": 4, "stop_loss_px": 95, "take_profit_px": 110}', ARRAY['trader:execute']);
SELECT pg_temp.quote('MON-L', 99.9, 100.1);
SELECT tr_report_execution('M-L', '{"status": "partially_filled", "venue": "paper_a", "fills": [{"fill_id": "L1", "px": 100, "qty": 1}]}');
SELECT results_eq(
    $$SELECT monitoring_state->>'status', monitoring_state->>'side', (monitoring_state->>'qty')::numeric,
             (monitoring_state->>'stop_loss_px')::numeric, (monitoring_state->>'take_profit_px')::numeric,
             monitoring_state->>'protects', lifecycle_id, symbol
        FROM tr_strand WHERE kind = 'monitoring'$$,
    $$VALUES ('active', 'long', 1::numeric, 95::numeric, 110::numeric, 'M-L', 'LC-ML', 'MON-L')$$,
    'a filled entry with a stop and a take-profit opens an active monitor with the order''s lifecycle');
SELECT is((SELECT parent_id FROM tr_strand WHERE kind = 'monitoring'), (SELECT id FROM tr_strand WHERE kind = 'execution' AND decision_id = 'M-L'),
          'the monitor points at the execution it protects');
SELECT tr_report_execution('M-L', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "L1", "px": 100, "qty": 1}, {"fill_id": "L2", "px": 100.2, "qty": 2}]}');
SELECT is((pg_temp.monitor('M-L')->>'qty')::numeric, 3::numeric, 'partial fills size the monitor to what was filled');
SELECT is((SELECT count(*) FROM tr_strand WHERE kind = 'monitoring'), 1::bigint, 'an entry has one monitor, however many reports');

SELECT pg_temp.quote('MON-L', 95.01, 95.5);
SELECT is(pg_temp.monitor('M-L')->>'status', 'active', 'a bid just above the stop does not trigger');
SELECT pg_temp.quote('MON-L', 109.99, 111);
SELECT is(pg_temp.monitor('M-L')->>'status', 'active', 'an ask above the take-profit does not trigger a long: it exits into the bid');
SELECT pg_temp.quote('MON-L', 95, 95.2);
SELECT results_eq($$SELECT monitoring_state->>'status', monitoring_state->>'triggered_by', (monitoring_state->>'trigger_px')::numeric
                      FROM tr_strand WHERE kind = 'monitoring'$$,
                  $$VALUES ('triggered', 'stop_loss', 95::numeric)$$, 'a bid falling to the stop triggers the long''s stop-loss');
SELECT results_eq(
    $$SELECT source, source_id, lifecycle_id, symbol, order_spec->>'side', (order_spec->>'qty')::numeric, order_spec->>'order_type',
             (order_spec->>'reduce_only')::boolean, order_spec->>'exit_reason', state
        FROM tr_inbox WHERE source = 'monitor'$$,
    $$SELECT 'monitor', id, 'LC-ML', 'MON-L', 'sell', 3::numeric, 'market', true, 'stop_loss', 'pending'
        FROM tr_strand WHERE kind = 'monitoring'$$,
    'the trigger puts a reduce-only market sell closing the position into the inbox, with the original lifecycle');
SELECT is((SELECT monitoring_state->>'exit_order_id' FROM tr_strand WHERE kind = 'monitoring'), (SELECT id FROM tr_inbox WHERE source = 'monitor'),
          'the monitor names its exit order');
SELECT pg_temp.quote('MON-L', 94, 94.5);
SELECT pg_temp.quote('MON-L', 90, 90.5);
SELECT is((SELECT count(*) FROM tr_inbox WHERE source = 'monitor'), 1::bigint, 'later quotes past the stop make no second exit order');
SELECT is((tr_check_order('MON-L', (SELECT order_spec FROM tr_inbox WHERE source = 'monitor'))).reason, 'OK',
          'the exit order passes the pre-trade check');
SELECT tr_report_execution((SELECT id FROM tr_inbox WHERE source = 'monitor'),
    '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "LX", "px": 90, "qty": 3}]}');
SELECT is((SELECT quantity FROM tr_positions WHERE symbol = 'MON-L'), 0::numeric, 'the exit closes the position');
SELECT is((SELECT count(*) FROM tr_strand WHERE kind = 'monitoring' AND decision_id = (SELECT id FROM tr_inbox WHERE source = 'monitor')), 0::bigint,
          'an exit order opens no monitor of its own');

-- A long's take-profit.
INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES ('M-T', 'MON-T', '{"side": "buy", "qty": 2, "take_profit_px": 110}', ARRAY['trader:execute']);
SELECT tr_report_execution('M-T', '{"status": "filled", "venue": "paper_b", "fills": [{"fill_id": "T1", "px": 100, "qty": 2}]}');
SELECT pg_temp.quote('MON-T', 110, 110.5);
SELECT results_eq($$SELECT monitoring_state->>'status', monitoring_state->>'triggered_by' FROM tr_strand WHERE kind = 'monitoring' AND symbol = 'MON-T'$$,
                  $$VALUES ('triggered', 'take_profit')$$, 'a bid reaching the take-profit triggers it');
SELECT is((SELECT order_spec->>'venue' FROM tr_inbox WHERE source = 'monitor' AND symbol = 'MON-T'), 'paper_b', 'the exit goes to the entry''s venue');

-- A short, mirrored with the ask.
INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES ('M-S', 'MON-S', '{"side": "sell", "qty": 5, "stop_loss_px": 105, "take_profit_px": 90}', ARRAY['trader:execute']);
SELECT tr_report_execution('M-S', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "S1", "px": 100, "qty": 5}]}');
SELECT is(pg_temp.monitor('M-S')->>'side', 'short', 'a sell entry opens a short monitor');
SELECT pg_temp.quote('MON-S', 104.5, 104.99);
SELECT is(pg_temp.monitor('M-S')->>'status', 'active', 'an ask just below a short''s stop does not trigger');
SELECT pg_temp.quote('MON-S', 104.8, 105);
SELECT results_eq($$SELECT monitoring_state->>'triggered_by', (SELECT order_spec->>'side' FROM tr_inbox WHERE source = 'monitor' AND symbol = 'MON-S')
                      FROM tr_strand WHERE kind = 'monitoring' AND symbol = 'MON-S'$$,
                  $$VALUES ('stop_loss', 'buy')$$, 'an ask rising to a short''s stop triggers a buy to cover');
INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES ('M-S2', 'MON-S2', '{"side": "sell", "qty": 1, "take_profit_px": 90}', ARRAY['trader:execute']);
SELECT tr_report_execution('M-S2', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "S2", "px": 100, "qty": 1}]}');
SELECT pg_temp.quote('MON-S2', 89, 90);
SELECT is(pg_temp.monitor('M-S2')->>'triggered_by', 'take_profit', 'an ask falling to a short''s take-profit triggers it');

-- Closed by other means.
INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES
    ('M-C', 'MON-C', '{"side": "buy", "qty": 2, "stop_loss_px": 90}', ARRAY['trader:execute']),
    ('M-C2', 'MON-C', '{"side": "sell", "qty": 2}', ARRAY['trader:execute']);
SELECT tr_report_execution('M-C', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "C1", "px": 100, "qty": 2}]}');
SELECT tr_report_execution('M-C2', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "C2", "px": 101, "qty": 2}]}');
SELECT results_eq($$SELECT monitoring_state->>'status', monitoring_state->>'closed_reason' FROM tr_strand WHERE kind = 'monitoring' AND symbol = 'MON-C'$$,
                  $$VALUES ('closed', 'position closed')$$, 'a position closed by another order closes its monitor');
SELECT pg_temp.quote('MON-C', 80, 81);
SELECT is((SELECT count(*) FROM tr_inbox WHERE source = 'monitor' AND symbol = 'MON-C'), 0::bigint, 'a closed monitor never triggers');
INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES
    ('M-F', 'MON-F', '{"side": "buy", "qty": 1, "stop_loss_px": 90}', ARRAY['trader:execute']),
    ('M-F2', 'MON-F', '{"side": "sell", "qty": 3}', ARRAY['trader:execute']);
SELECT tr_report_execution('M-F', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "F1", "px": 100, "qty": 1}]}');
SELECT tr_report_execution('M-F2', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "F2", "px": 100, "qty": 3}]}');
SELECT is(pg_temp.monitor('M-F')->>'closed_reason', 'position flipped', 'a flip closes the monitors of the side it left');

-- What opens no monitor.
INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES
    ('M-N', 'MON-N', '{"side": "buy", "qty": 1}', ARRAY['trader:execute']),
    ('M-W', 'MON-W', '{"side": "buy", "qty": 1, "stop_loss_px": 90}', ARRAY['trader:execute']),
    ('M-R0', 'MON-R', '{"side": "buy", "qty": 5}', ARRAY['trader:execute']),
    ('M-R', 'MON-R', '{"side": "sell", "qty": 1, "stop_loss_px": 120}', ARRAY['trader:execute']);
SELECT tr_report_execution('M-N', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "N1", "px": 100, "qty": 1}]}');
SELECT tr_report_execution('M-W', '{"status": "working", "venue": "paper_a"}');
SELECT tr_report_execution('M-R0', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "R0", "px": 100, "qty": 5}]}');
SELECT tr_report_execution('M-R', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "R1", "px": 100, "qty": 1}]}');
SELECT is(pg_temp.monitor('M-N'), NULL, 'an entry without conditions opens no monitor');
SELECT is(pg_temp.monitor('M-W'), NULL, 'an order that has not filled opens no monitor yet');
SELECT is(pg_temp.monitor('M-R'), NULL, 'an order that reduces a position is no entry and opens no monitor');

-- A quote that was not applied is not acted on.
INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES ('M-X', 'MON-X', '{"side": "buy", "qty": 1, "stop_loss_px": 90}', ARRAY['trader:execute']);
SELECT tr_report_execution('M-X', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "X1", "px": 100, "qty": 1}]}');
SELECT pg_temp.quote('MON-X', 80, 70);
SELECT is(pg_temp.monitor('M-X')->>'status', 'active', 'a crossed quote is refused and triggers nothing');

-- Two entries' monitors on a position since reduced: their exits together never
-- exceed what is left, so the position cannot flip.
INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES
    ('M-2A', 'MON-2', '{"side": "buy", "qty": 5, "stop_loss_px": 95}', ARRAY['trader:execute']),
    ('M-2B', 'MON-2', '{"side": "buy", "qty": 5, "stop_loss_px": 95}', ARRAY['trader:execute']),
    ('M-2C', 'MON-2', '{"side": "sell", "qty": 6}', ARRAY['trader:execute']);
SELECT tr_report_execution('M-2A', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "2A", "px": 100, "qty": 5}]}');
SELECT tr_report_execution('M-2B', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "2B", "px": 100, "qty": 5}]}');
SELECT tr_report_execution('M-2C', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "2C", "px": 101, "qty": 6}]}');
SELECT pg_temp.quote('MON-2', 94, 94.5);
SELECT is((SELECT sum((order_spec->>'qty')::numeric) FROM tr_inbox WHERE source = 'monitor' AND symbol = 'MON-2'), 4::numeric,
          'the exits of two triggered monitors add up to the position left, not to each monitor''s size');
SELECT is((SELECT count(*) FROM tr_strand WHERE kind = 'monitoring' AND symbol = 'MON-2' AND monitoring_state->>'status' IN ('triggered', 'closed')), 2::bigint,
          'both monitors are done with: one exits the position, the other finds nothing left to close');

SELECT * FROM finish();
ROLLBACK;
