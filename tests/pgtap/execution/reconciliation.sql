-- Reconciliation with the exchange: open orders the Trader did not place are recorded,
-- refreshed and cleared; working orders the exchange no longer lists go back to the
-- worker; a balance off the Trader's fills beyond the tolerance is a drift that refuses
-- its symbols until an operator acknowledges it, and the acknowledged difference is the
-- offset from then on. Bad entries are skipped, never raised. Time is passed in.
BEGIN;
SELECT plan(46);

DELETE FROM tr_execution_performance; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;
DELETE FROM tr_fills; DELETE FROM tr_inbox; DELETE FROM tr_operator_actions; DELETE FROM tr_venue_differences;

CREATE FUNCTION pg_temp.open_order(p_venue_order_id text, p_order_id text DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('venue_order_id', p_venue_order_id, 'order_id', p_order_id, 'client_order_id', p_order_id,
                              'symbol', 'RC/USDT', 'side', 'buy', 'amount', '2', 'filled', '0', 'created_at', '2026-01-01T00:00:00Z')
$$;
CREATE FUNCTION pg_temp.reconcile(p_orders jsonb, p_balances jsonb, p_minutes integer) RETURNS jsonb LANGUAGE sql AS $$
    SELECT tr_reconcile_venue('rc_venue', p_orders, p_balances, '2026-01-01T00:00:00Z'::timestamptz + p_minutes * interval '1 minute')
$$;
CREATE FUNCTION pg_temp.btc(p_exchange_qty text, p_step text DEFAULT '0.0001') RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_array(jsonb_build_object('asset', 'RCB', 'symbols', jsonb_build_array('RCB-USD'),
                                                'exchange_qty', p_exchange_qty, 'step', p_step))
$$;
CREATE FUNCTION pg_temp.reason(p_symbol text) RETURNS text LANGUAGE sql AS $$
    SELECT (tr_check_order(p_symbol, '{"side": "buy", "qty": 1}')).reason
$$;

-- Trader orders at the venue: one working with its exchange id, one in flight (no venue
-- yet, known by our id only), one working that the exchange will no longer list.
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec)
VALUES ('RC-W1', 'decision', 'RC-W1', 'RCB-USD', '{"side": "buy", "qty": 2}'),
       ('RC-W2', 'decision', 'RC-W2', 'RCB-USD', '{"side": "buy", "qty": 2}'),
       ('RC-FLIGHT', 'decision', 'RC-FLIGHT', 'RCB-USD', '{"side": "buy", "qty": 2}');
SELECT tr_report_execution('RC-W1', '{"status": "working", "venue": "rc_venue", "venue_order_id": "EX-W1"}');
SELECT tr_report_execution('RC-W2', '{"status": "working", "venue": "rc_venue", "venue_order_id": "EX-W2"}');

-- open orders
SELECT is(pg_temp.reconcile(jsonb_build_array(pg_temp.open_order('EX-W1'), pg_temp.open_order('EX-FLIGHT', 'RC-FLIGHT'),
                                              pg_temp.open_order('EX-STRAY')), NULL, 0),
          '{"unknown_open_orders": 1, "balance_drifts": 0, "follow_up": ["RC-W2"], "skipped": 0}'::jsonb,
          'one unknown open order; the working order the exchange no longer lists is followed up');
SELECT results_eq($$SELECT kind, subject, symbols, exchange_figure, detail->>'symbol', acknowledged FROM tr_open_venue_differences$$,
                  $$VALUES ('unknown_open_order', 'EX-STRAY', ARRAY['RC/USDT'], 2::numeric, 'RC/USDT', false)$$,
                  'the unknown order is recorded with the exchange''s order as seen');
SELECT is_empty($$SELECT FROM tr_venue_differences WHERE subject IN ('EX-W1', 'EX-FLIGHT')$$,
                'a known order is no difference: by its exchange id, or by our order id before its report arrived');
SELECT is((SELECT count(*) FROM tr_inbox), 3::bigint, 'an unknown open order is never adopted');
SELECT is((SELECT state FROM tr_inbox WHERE id = 'RC-W2'), 'working', 'a followed-up order is left as it is here');
SELECT is(pg_temp.reconcile(jsonb_build_array(pg_temp.open_order('EX-W1'), pg_temp.open_order('EX-W2'),
                                              pg_temp.open_order('EX-STRAY')), NULL, 5)->'unknown_open_orders',
          '1'::jsonb, 'seen again: still one');
SELECT results_eq($$SELECT count(*), min(first_seen_at), max(last_seen_at) FROM tr_venue_differences WHERE subject = 'EX-STRAY'$$,
                  $$VALUES (1::bigint, '2026-01-01T00:00:00Z'::timestamptz, '2026-01-01T00:05:00Z'::timestamptz)$$,
                  'refreshed, not duplicated');
SELECT is(pg_temp.reconcile(NULL, NULL, 7)->'unknown_open_orders', '1'::jsonb, 'open orders not fetched: left as they are');
SELECT is(pg_temp.reconcile(jsonb_build_array(pg_temp.open_order('EX-W1'), pg_temp.open_order('EX-W2')), NULL, 10),
          '{"unknown_open_orders": 0, "balance_drifts": 0, "follow_up": [], "skipped": 0}'::jsonb,
          'gone from the exchange: none open, nothing to follow up');
SELECT is((SELECT cleared_at FROM tr_venue_differences WHERE subject = 'EX-STRAY'), '2026-01-01T00:10:00Z'::timestamptz,
          'an unknown order no longer listed is cleared, and kept');
SELECT is(pg_temp.reconcile(jsonb_build_array(pg_temp.open_order('EX-STRAY')), NULL, 15)->'unknown_open_orders', '1'::jsonb,
          'listed again after it cleared: a new difference');

-- bad entries
SELECT is(pg_temp.reconcile(jsonb_build_array(pg_temp.open_order('EX-STRAY'), 7, 'text', '[]'::jsonb, '{}'::jsonb,
                                              pg_temp.open_order('EX-W1') - 'amount',
                                              pg_temp.open_order('EX-W2') || '{"filled": "NaN"}',
                                              pg_temp.open_order(repeat('x', 129)),
                                              pg_temp.open_order('EX-LONG') || jsonb_build_object('symbol', repeat('s', 129)),
                                              pg_temp.open_order('EX-OBJ') || '{"order_id": {"a": 1}}'),
                            jsonb_build_array(1, '{"asset": "RCB"}'::jsonb,
                                              pg_temp.btc('abc')->0, pg_temp.btc('1', '-1')->0,
                                              (pg_temp.btc('1')->0) || '{"symbols": "RCB-USD"}',
                                              (pg_temp.btc('1')->0) || '{"symbols": [7]}',
                                              (pg_temp.btc('1')->0) || jsonb_build_object('asset', repeat('a', 129))), 16)->'skipped',
          '16'::jsonb, 'bad entries are skipped and counted: not objects, missing keys, non-numeric figures, over-long text');
SELECT is((SELECT subject FROM tr_open_venue_differences WHERE kind = 'unknown_open_order'), 'EX-STRAY',
          'the usable entry among them still counts');
SELECT lives_ok($$SELECT tr_reconcile_venue('rc_venue', '"not an array"', '{"not": "an array"}')$$,
                'parts that are not arrays do not raise');
SELECT is((tr_reconcile_venue('rc_venue', '"not an array"', '{"not": "an array"}', '2026-01-01T00:17:00Z'))->'skipped', '2'::jsonb,
          'they are skipped whole');
SELECT is((tr_reconcile_venue(repeat('v', 129), '[1, 2]', NULL))->'skipped', '2'::jsonb, 'an over-long venue skips everything');
SELECT is((SELECT count(*) FROM tr_venue_differences WHERE kind = 'unknown_open_order' AND cleared_at IS NULL), 1::bigint,
          'skipped entries clear nothing');

-- balances: the Trader's figure from its fills at this venue, fees in the base currency counted
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec)
VALUES ('RC-B1', 'decision', 'RC-B1', 'RCB-USD', '{"side": "buy", "qty": 2}'),
       ('RC-S1', 'decision', 'RC-S1', 'RCB-USD', '{"side": "sell", "qty": 0.5}'),
       ('RC-ELSE', 'decision', 'RC-ELSE', 'RCB-USD', '{"side": "buy", "qty": 7}');
SELECT tr_report_execution('RC-B1', '{"status": "filled", "venue": "rc_venue", "fills": [{"fill_id": "b1", "px": 100, "qty": 2, "fee": 0.2,
                                      "fee_charged": {"cost": "0.002", "currency": "RCB"}}]}');
SELECT tr_report_execution('RC-S1', '{"status": "filled", "venue": "rc_venue", "fills": [{"fill_id": "s1", "px": 100, "qty": 0.5, "fee": 0.05}]}');
SELECT tr_report_execution('RC-ELSE', '{"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "e1", "px": 100, "qty": 7, "fee": 0}]}');
SELECT is(tr_venue_trader_qty('rc_venue', 'RCB', ARRAY['RCB-USD']), 1.498::numeric,
          'the Trader''s figure: buys 2 - sells 0.5 - fee 0.002 taken in the asset; fills at other venues do not count');

SELECT is(pg_temp.reconcile(NULL, pg_temp.btc('1.499'), 20)->'balance_drifts', '0'::jsonb,
          'a drift within reconcile.balance_tolerance is nothing');
SELECT is(pg_temp.reconcile(NULL, pg_temp.btc('1.4985', '0.001'), 21)->'balance_drifts', '0'::jsonb,
          'nor is one within the lot step');
SELECT is(pg_temp.reconcile(NULL, pg_temp.btc('1.6'), 22)->'balance_drifts', '1'::jsonb, 'a drift beyond it is a difference');
SELECT results_eq($$SELECT kind, subject, symbols, exchange_figure, trader_figure, accepted_offset, drift, acknowledged
                      FROM tr_open_venue_differences WHERE kind = 'balance_drift'$$,
                  $$VALUES ('balance_drift', 'RCB', ARRAY['RCB-USD'], 1.6::numeric, 1.498::numeric, 0::numeric, 0.102::numeric, false)$$,
                  'with both figures, the offset and the drift');
SELECT is(pg_temp.reason('RCB-USD'), 'BALANCE_DRIFT', 'the pre-trade check refuses the drifted symbol');
SELECT matches((tr_check_order('RCB-USD', '{"side": "buy", "qty": 1}')).detail, 'RCB at rc_venue.*exchange 1.6, Trader 1.498',
               'naming the venue, the asset and both figures');
SELECT is(pg_temp.reason('RCX-USD'), 'OK', 'another symbol is not refused');
SELECT is((SELECT reason FROM tr_pre_trade_check(ARRAY['RC-W1'])), 'BALANCE_DRIFT', 'as the worker''s batch check says');
SELECT is(pg_temp.reconcile(NULL, pg_temp.btc('1.7'), 25)->'balance_drifts', '1'::jsonb, 'a changed drift refreshes the one open');
SELECT results_eq($$SELECT exchange_figure, drift, first_seen_at, last_seen_at FROM tr_venue_differences WHERE kind = 'balance_drift'$$,
                  $$VALUES (1.7::numeric, 0.202::numeric, '2026-01-01T00:22:00Z'::timestamptz, '2026-01-01T00:25:00Z'::timestamptz)$$,
                  'its figures updated');

-- acknowledge
SELECT throws_ok($$SELECT tr_acknowledge_difference('RC-NONE', 'why')$$, 'P0002', 'no venue difference RC-NONE',
                 'an unknown id raises P0002');
SELECT throws_ok($$SELECT tr_acknowledge_difference((SELECT id FROM tr_venue_differences WHERE kind = 'balance_drift'), ' ')$$,
                 '22023', 'an operator action needs a reason', 'an empty reason is refused');
SELECT lives_ok($$SELECT tr_acknowledge_difference((SELECT id FROM tr_venue_differences WHERE kind = 'balance_drift'),
                                                   'a deposit of 0.202 RCB', 'ops-1', '2026-01-01T00:26:00Z')$$,
                'an operator acknowledges the drift');
SELECT throws_ok($$SELECT tr_acknowledge_difference((SELECT id FROM tr_venue_differences WHERE kind = 'balance_drift'), 'again')$$,
                 '55000', NULL, 'one acknowledged already is refused');
SELECT results_eq($$SELECT action, order_id, actor, reason, details->'difference'->>'subject' FROM tr_operator_actions$$,
                  $$VALUES ('acknowledge_difference', NULL::text, 'ops-1', 'a deposit of 0.202 RCB', 'RCB')$$,
                  'recorded in the audit trail');
SELECT is(pg_temp.reason('RCB-USD'), 'OK', 'acknowledged: the symbol is no longer refused');
SELECT is(pg_temp.reconcile(NULL, pg_temp.btc('1.7'), 30)->'balance_drifts', '0'::jsonb,
          'the same drift next time is no difference: it is the accepted offset');
SELECT is(tr_accepted_offset('rc_venue', 'RCB'), 0.202::numeric, 'the accepted offset is exchange - Trader as acknowledged');
SELECT is(pg_temp.reconcile(NULL, pg_temp.btc('2'), 35)->'balance_drifts', '1'::jsonb, 'a further drift is a new difference');
SELECT results_eq($$SELECT exchange_figure, trader_figure, accepted_offset, drift, acknowledged FROM tr_open_venue_differences
                     WHERE kind = 'balance_drift'$$,
                  $$VALUES (2::numeric, 1.498::numeric, 0.202::numeric, 0.300::numeric, false)$$,
                  'measured against the accepted offset, and blocking again');
SELECT is(pg_temp.reason('RCB-USD'), 'BALANCE_DRIFT', 'the symbol is refused again');

-- an unknown open order acknowledged stays listed while the exchange shows it
SELECT tr_acknowledge_difference((SELECT id FROM tr_open_venue_differences WHERE kind = 'unknown_open_order'), 'placed by hand', 'ops-1');
SELECT is(pg_temp.reconcile(jsonb_build_array(pg_temp.open_order('EX-STRAY')), NULL, 40)->'unknown_open_orders', '1'::jsonb,
          'an acknowledged unknown order stays listed while the exchange shows it');
SELECT is((SELECT acknowledged FROM tr_open_venue_differences WHERE kind = 'unknown_open_order'), true, 'marked as seen');

-- privileges
SET LOCAL ROLE tr_worker;
SELECT lives_ok($$SELECT tr_reconcile_venue('rc_venue', NULL, NULL)$$, 'the worker reconciles');
SELECT throws_ok($$SELECT tr_acknowledge_difference((SELECT id FROM tr_open_venue_differences WHERE kind = 'balance_drift'), 'no')$$,
                 '42501', NULL, 'the worker cannot acknowledge');
RESET ROLE;
SET LOCAL ROLE tr_operator;
SELECT lives_ok($$SELECT tr_acknowledge_difference((SELECT id FROM tr_open_venue_differences WHERE kind = 'balance_drift'), 'checked')$$,
                'an operator acknowledges');
RESET ROLE;

-- An order the Trader holds final that the exchange still lists open (a cancel the
-- Trader believed, say) is not the Trader's working order: it is a difference.
DELETE FROM tr_venue_differences;
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES ('RC-DONE', 'decision', 'RC-DONE', 'RCD-USD', '{"side": "buy", "qty": 1}');
SELECT tr_report_execution('RC-DONE', '{"status": "cancelled", "venue": "rc_venue", "venue_order_id": "EX-DONE"}');
SELECT is(pg_temp.reconcile(jsonb_build_array(pg_temp.open_order('EX-DONE', 'RC-DONE')), NULL, 60)->'unknown_open_orders', '1',
          'an order cancelled for the Trader but open at the exchange is surfaced');
SELECT is((SELECT subject FROM tr_open_venue_differences WHERE kind = 'unknown_open_order'), 'EX-DONE',
          'under the exchange''s order id');

SELECT * FROM finish();
ROLLBACK;
