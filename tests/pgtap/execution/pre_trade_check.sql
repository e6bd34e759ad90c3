-- The pre-trade check: what the Risk Manager allows (risk state from rm_strand), whether
-- an order_spec is usable at all, and the answer the worker gets before every submission.
BEGIN;
SELECT plan(82);

DELETE FROM tr_risk_state; DELETE FROM tr_positions; DELETE FROM tr_quotes; DELETE FROM tr_inbox;
DELETE FROM tr_unapplied_input; DELETE FROM tr_strand;

-- The verdict as one comparable string: the reason, and for INVALID_ORDER_SPEC also the
-- field its detail names first (the part before the colon), so a failure shows both.
-- The check promises never to raise; an error becomes a failing verdict here instead
-- of aborting the rest of the plan.
CREATE FUNCTION pg_temp.verdict(p_symbol text, p_spec jsonb)
RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT CASE WHEN reason = 'INVALID_ORDER_SPEC' THEN reason || ' ' || split_part(detail, ':', 1) ELSE reason END
              FROM tr_check_order(p_symbol, p_spec));
EXCEPTION WHEN OTHERS THEN
    RETURN format('raised %s: %s', SQLSTATE, SQLERRM);
END
$$;
CREATE FUNCTION pg_temp.risk(p_update jsonb)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO rm_strand (tags, risk_update) VALUES (ARRAY['tr:risk_update'], p_update)
$$;

-- Risk state: no update at all
SELECT results_eq($$SELECT * FROM tr_effective_risk('RS-A')$$,
                  $$VALUES ('active', NULL::numeric, NULL::numeric, NULL::numeric)$$,
                  'before the Risk Manager says anything, trading is active and unlimited');
SELECT is(pg_temp.verdict('RS-A', '{"side": "buy", "qty": 1000000}'), 'OK',
          'without any risk update a large market order passes, even without a quote');

-- Risk state: the latest value of each key wins per scope
INSERT INTO rm_strand (id, tags, risk_update) VALUES ('RU-1', ARRAY['tr:risk_update'], '{"scope": "global", "trading_state": "reducing", "max_order_qty": 10}');
SELECT results_eq($$SELECT scope, trading_state, max_position_qty, max_order_qty, max_order_notional, strand_id FROM tr_risk_state$$,
                  $$VALUES ('global', 'reducing', NULL::numeric, 10::numeric, NULL::numeric, 'RU-1')$$,
                  'a global update sets the keys it names and leaves the other limits unlimited');
INSERT INTO rm_strand (id, tags, risk_update) VALUES ('RU-2', ARRAY['tr:risk_update'], '{"scope": "global", "max_order_qty": 5}');
SELECT results_eq($$SELECT scope, trading_state, max_position_qty, max_order_qty, max_order_notional, strand_id FROM tr_risk_state$$,
                  $$VALUES ('global', 'reducing', NULL::numeric, 5::numeric, NULL::numeric, 'RU-2')$$,
                  'a later update naming only max_order_qty changes that limit and keeps the earlier trading_state');
SELECT pg_temp.risk('{"scope": "global", "trading_state": "active", "max_order_qty": null}');
SELECT results_eq($$SELECT trading_state, max_order_qty FROM tr_risk_state WHERE scope = 'global'$$,
                  $$VALUES ('active', NULL::numeric)$$,
                  'JSON null lifts a limit, and active ends a reducing state');
SELECT is(pg_temp.verdict('RS-A', '{"side": "buy", "qty": 1000000}'), 'OK', 'a lifted limit no longer stops an order');

-- Risk state: global and symbol scopes together
SELECT pg_temp.risk('{"scope": "global", "max_position_qty": 100, "max_order_qty": 5}');
SELECT pg_temp.risk('{"scope": "RS-A", "trading_state": "reducing", "max_position_qty": 50, "max_order_qty": 8, "max_order_notional": 1000}');
SELECT results_eq($$SELECT * FROM tr_effective_risk('RS-A')$$,
                  $$VALUES ('reducing', 50::numeric, 5::numeric, 1000::numeric)$$,
                  'the stricter of global and symbol scope applies: the stricter state and the lower of each limit');
SELECT results_eq($$SELECT * FROM tr_effective_risk('RS-B')$$,
                  $$VALUES ('active', 100::numeric, 5::numeric, NULL::numeric)$$,
                  'a symbol''s own scope does not touch other symbols');
SELECT pg_temp.risk('{"scope": "RS-B", "trading_state": "active"}');
SELECT pg_temp.risk('{"scope": "global", "trading_state": "halted"}');
SELECT is((SELECT trading_state FROM tr_effective_risk('RS-B')), 'halted',
          'a global halt halts a symbol whose own scope says active');

-- Bad risk updates: recorded, not applied, and the Risk Manager's insert still succeeds
DELETE FROM tr_risk_state;
SELECT pg_temp.risk('{"scope": "global", "trading_state": "active", "max_order_qty": 5, "max_position_qty": 20}');
CREATE TEMP TABLE risk_before AS SELECT * FROM tr_risk_state;
SELECT lives_ok($$INSERT INTO rm_strand (id, tags, risk_update) VALUES
    ('BAD-1', ARRAY['tr:risk_update'], '"halted"'),
    ('BAD-2', ARRAY['tr:risk_update'], '{"trading_state": "halted"}'),
    ('BAD-3', ARRAY['tr:risk_update'], '{"scope": "global", "trading_state": "paused"}'),
    ('BAD-4', ARRAY['tr:risk_update'], '{"scope": "global", "trading_state": "halted", "max_order_qty": -1}'),
    ('BAD-5', ARRAY['tr:risk_update'], '{"scope": "global", "max_order_qty": "NaN"}'),
    ('BAD-6', ARRAY['tr:risk_update'], '{"scope": "global", "max_position_qty": "ten"}'),
    ('BAD-7', ARRAY['tr:risk_update'], '{"scope": "global"}')$$,
                'the Risk Manager''s insert succeeds even when the Trader cannot use the update');
SELECT is((SELECT count(*) FROM rm_strand WHERE id LIKE 'BAD-%'), 7::bigint, 'the unusable updates are kept in rm_strand as written');
SELECT results_eq($$SELECT strand_id, source_table, reason FROM tr_unapplied_input ORDER BY strand_id$$,
                  $$VALUES ('BAD-1', 'rm_strand', 'INVALID_RISK_UPDATE'), ('BAD-2', 'rm_strand', 'MISSING_SCOPE'),
                           ('BAD-3', 'rm_strand', 'INVALID_TRADING_STATE'), ('BAD-4', 'rm_strand', 'INVALID_LIMIT'),
                           ('BAD-5', 'rm_strand', 'INVALID_LIMIT'), ('BAD-6', 'rm_strand', 'INVALID_LIMIT'),
                           ('BAD-7', 'rm_strand', 'EMPTY_RISK_UPDATE')$$,
                  'each unusable update is recorded in tr_unapplied_input with its stable reason');
SELECT results_eq($$SELECT strand_id, split_part(detail, ' ', 1) FROM tr_unapplied_input WHERE reason = 'INVALID_LIMIT' ORDER BY strand_id$$,
                  $$VALUES ('BAD-4', 'max_order_qty'), ('BAD-5', 'max_order_qty'), ('BAD-6', 'max_position_qty')$$,
                  'an INVALID_LIMIT detail names the limit that was wrong (negative, "NaN", text)');
SELECT is((SELECT payload FROM tr_unapplied_input WHERE strand_id = 'BAD-1'), '"halted"'::jsonb,
          'the record keeps the update as the Risk Manager wrote it');
-- BAD-4 also names a valid trading_state: an update is used whole or not at all.
SELECT results_eq($$SELECT * FROM tr_risk_state$$, $$SELECT * FROM risk_before$$,
                  'no unusable update changed the risk state, not even the valid keys it named');
INSERT INTO rm_strand (id, tags, risk_update) VALUES ('UNTAGGED', ARRAY['rm:note'], '{"scope": "global", "trading_state": "halted"}');
SELECT results_eq($$SELECT * FROM tr_risk_state$$, $$SELECT * FROM risk_before$$,
                  'an rm_strand row without the tr:risk_update tag does not change the risk state');
SELECT is_empty($$SELECT * FROM tr_unapplied_input WHERE strand_id = 'UNTAGGED'$$,
                'an rm_strand row without the tag is not the Trader''s input, so it is not recorded as unusable');

-- INVALID_ORDER_SPEC, the detail naming the field
DELETE FROM tr_risk_state;
SELECT is(pg_temp.verdict('V-A', '{"side": "buy"}'), 'INVALID_ORDER_SPEC qty', 'an order without qty is refused, naming qty');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": 0}'), 'INVALID_ORDER_SPEC qty', 'qty 0 is refused');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": -1}'), 'INVALID_ORDER_SPEC qty', 'a negative qty is refused (the side gives the direction)');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": "NaN"}'), 'INVALID_ORDER_SPEC qty', 'qty "NaN" is refused');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": "Infinity"}'), 'INVALID_ORDER_SPEC qty', 'qty "Infinity" is refused');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": 1.000000001}'), 'INVALID_ORDER_SPEC qty',
          'a qty with 9 decimal places is refused, not rounded');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": 1.00000001}'), 'OK', 'a qty with 8 decimal places passes');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": "2.5"}'), 'OK', 'a qty written as a decimal string passes');
SELECT is(pg_temp.verdict('V-A', '{"side": "hold", "qty": 1}'), 'INVALID_ORDER_SPEC side', 'an unknown side is refused, naming side');
SELECT is(pg_temp.verdict('V-A', '{"qty": 1}'), 'INVALID_ORDER_SPEC side', 'an order without a side is refused, naming side');
SELECT is(pg_temp.verdict('V-A', '{"side": "sell", "qty": 1}'), 'OK', 'side sell passes');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": 1, "order_type": "stop"}'), 'INVALID_ORDER_SPEC order_type',
          'an unknown order_type is refused, naming order_type');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": 1, "tif": "fok"}'), 'INVALID_ORDER_SPEC tif', 'an unknown tif is refused, naming tif');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": 1, "order_type": "limit"}'), 'INVALID_ORDER_SPEC limit_px',
          'a limit order without limit_px is refused, naming limit_px');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": 1, "order_type": "limit", "limit_px": "99.5", "tif": "gtc", "venue": "paper_a"}'), 'OK',
          'a limit order with its price, a known tif and a venue passes');
SELECT is(pg_temp.verdict('V-A', '"buy 1"'), 'INVALID_ORDER_SPEC order_spec', 'an order_spec that is not a JSON object is refused');
SELECT is(pg_temp.verdict('', '{"side": "buy", "qty": 1}'), 'INVALID_ORDER_SPEC symbol', 'an order with an empty symbol is refused, naming symbol');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": 1, "reduce_only": "yes"}'), 'INVALID_ORDER_SPEC reduce_only',
          'a reduce_only that is not a boolean is refused');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": 1, "reduce_only": false}'), 'OK', 'reduce_only false passes');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": 1, "stop_loss_px": 110, "take_profit_px": 100}'), 'INVALID_ORDER_SPEC stop_loss_px',
          'a buy whose stop sits above its take-profit is refused, naming stop_loss_px');
SELECT is(pg_temp.verdict('V-A', '{"side": "sell", "qty": 1, "stop_loss_px": 90, "take_profit_px": 100}'), 'INVALID_ORDER_SPEC stop_loss_px',
          'a sell whose stop sits below its take-profit is refused');
SELECT is(pg_temp.verdict('V-A', '{"side": "buy", "qty": 1, "stop_loss_px": 99.99, "take_profit_px": 100}'), 'OK',
          'a buy with its stop just below its take-profit passes');
SELECT is(pg_temp.verdict('V-A', '{"side": "sell", "qty": 1, "stop_loss_px": 100.01, "take_profit_px": 100}'), 'OK',
          'a sell with its stop just above its take-profit passes');

-- TRADING_HALTED
SELECT pg_temp.risk('{"scope": "global", "trading_state": "halted"}');
SELECT is(pg_temp.verdict('H-A', '{"side": "buy", "qty": 1}'), 'TRADING_HALTED', 'a global halt refuses orders');
SELECT is((SELECT detail FROM tr_check_order('H-B', '{"side": "sell", "qty": 1}')), 'trading is halted for every symbol',
          'a global halt refuses orders in every symbol, and says so');
SELECT pg_temp.risk('{"scope": "global", "trading_state": "active"}');
SELECT pg_temp.risk('{"scope": "H-A", "trading_state": "halted"}');
SELECT is(pg_temp.verdict('H-A', '{"side": "buy", "qty": 1}'), 'TRADING_HALTED', 'halting a symbol refuses its orders');
SELECT is(pg_temp.verdict('H-B', '{"side": "buy", "qty": 1}'), 'OK', 'halting a symbol leaves the other symbols trading');

-- REDUCE_ONLY_VIOLATION: a long of 4
DELETE FROM tr_risk_state;
SELECT tr_apply_fill('R-A', 'buy', 4, 100);
SELECT pg_temp.risk('{"scope": "R-A", "trading_state": "reducing"}');
SELECT is(pg_temp.verdict('R-A', '{"side": "buy", "qty": 1}'), 'REDUCE_ONLY_VIOLATION', 'while reducing, an order that increases the position is refused');
SELECT is(pg_temp.verdict('R-A', '{"side": "sell", "qty": 5}'), 'REDUCE_ONLY_VIOLATION', 'while reducing, an order that would flip the position is refused');
SELECT is(pg_temp.verdict('R-A', '{"side": "sell", "qty": 4}'), 'OK', 'while reducing, an order that closes the position exactly passes');
SELECT is(pg_temp.verdict('R-B', '{"side": "buy", "qty": 1}'), 'OK', 'reducing one symbol leaves the others free to open positions');
SELECT pg_temp.risk('{"scope": "R-A", "trading_state": "active"}');
SELECT is(pg_temp.verdict('R-A', '{"side": "sell", "qty": 5, "reduce_only": true}'), 'REDUCE_ONLY_VIOLATION', 'a reduce_only order that would flip is refused');
SELECT is(pg_temp.verdict('R-A', '{"side": "buy", "qty": 1, "reduce_only": true}'), 'REDUCE_ONLY_VIOLATION', 'a reduce_only order that would increase is refused');
SELECT is(pg_temp.verdict('R-A', '{"side": "sell", "qty": 3, "reduce_only": true}'), 'OK', 'a reduce_only order that reduces passes');
SELECT is(pg_temp.verdict('R-A', '{"side": "sell", "qty": 5}'), 'OK', 'an order that is not reduce_only may flip while trading is active');

-- QTY_EXCEEDS_MAX
DELETE FROM tr_risk_state;
SELECT pg_temp.risk('{"scope": "global", "max_order_qty": 5}');
SELECT is(pg_temp.verdict('Q-A', '{"side": "buy", "qty": 5}'), 'OK', 'an order of exactly max_order_qty passes');
SELECT is(pg_temp.verdict('Q-A', '{"side": "buy", "qty": 5.00000001}'), 'QTY_EXCEEDS_MAX', 'an order the smallest step above max_order_qty is refused');

-- NOTIONAL_EXCEEDS_MAX and NO_MARKET_DATA: N-A quoted 99 / 101
DELETE FROM tr_risk_state;
SELECT pg_temp.risk('{"scope": "global", "max_order_notional": 1010}');
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('N-A', ARRAY['tr:market_update'], '{"bid": 99, "ask": 101}');
SELECT is(pg_temp.verdict('N-A', '{"side": "buy", "qty": 10}'), 'OK', 'a market buy valued at the ask exactly at max_order_notional passes');
SELECT is(pg_temp.verdict('N-A', '{"side": "buy", "qty": 10.01}'), 'NOTIONAL_EXCEEDS_MAX', 'a market buy valued at the ask above max_order_notional is refused');
SELECT is(pg_temp.verdict('N-A', '{"side": "sell", "qty": 10.2}'), 'OK', 'a market sell is valued at the bid (10.2 x 99 is within 1010, at the ask it would not be)');
SELECT is(pg_temp.verdict('N-A', '{"side": "sell", "qty": 10.21}'), 'NOTIONAL_EXCEEDS_MAX', 'a market sell valued at the bid above max_order_notional is refused');
SELECT is(pg_temp.verdict('N-A', '{"side": "buy", "qty": 10, "order_type": "limit", "limit_px": 102}'), 'NOTIONAL_EXCEEDS_MAX',
          'a limit order is valued at its limit price, not the quote');
SELECT is(pg_temp.verdict('N-A', '{"side": "buy", "qty": 11, "order_type": "limit", "limit_px": 90}'), 'OK',
          'a limit order within the limit at its own price passes though it would not at the ask');
SELECT is(pg_temp.verdict('N-B', '{"side": "buy", "qty": 1}'), 'NO_MARKET_DATA', 'a market order cannot be valued without a quote and is refused');
SELECT is(pg_temp.verdict('N-B', '{"side": "buy", "qty": 1, "order_type": "limit", "limit_px": 100}'), 'OK',
          'a limit order carries its own price and needs no quote');
SELECT pg_temp.risk('{"scope": "global", "max_order_notional": null}');
SELECT is(pg_temp.verdict('N-B', '{"side": "buy", "qty": 1}'), 'OK', 'without a notional limit a market order needs no quote');

-- POSITION_EXCEEDS_MAX: P-A long 6, P-B long 15 (above the max, e.g. the limit was lowered)
DELETE FROM tr_risk_state;
SELECT tr_apply_fill('P-A', 'buy', 6, 100);
SELECT tr_apply_fill('P-B', 'buy', 15, 100);
SELECT pg_temp.risk('{"scope": "global", "max_position_qty": 10}');
SELECT is(pg_temp.verdict('P-A', '{"side": "buy", "qty": 4}'), 'OK', 'an order that fills the position exactly to max_position_qty passes');
SELECT is(pg_temp.verdict('P-A', '{"side": "buy", "qty": 4.00000001}'), 'POSITION_EXCEEDS_MAX', 'an order that would fill the position past max_position_qty is refused');
SELECT is(pg_temp.verdict('P-A', '{"side": "sell", "qty": 16}'), 'OK', 'a flip to a short of exactly max_position_qty passes');
SELECT is(pg_temp.verdict('P-A', '{"side": "sell", "qty": 17}'), 'POSITION_EXCEEDS_MAX', 'a flip to a short beyond max_position_qty is refused');
SELECT is(pg_temp.verdict('P-B', '{"side": "sell", "qty": 2}'), 'OK', 'an order reducing a position already above the max passes');
SELECT is(pg_temp.verdict('P-B', '{"side": "buy", "qty": 1}'), 'POSITION_EXCEEDS_MAX', 'a position already above the max cannot grow');
SELECT is(pg_temp.verdict('P-B', '{"side": "sell", "qty": 25}'), 'OK', 'a position above the max may flip to a short of exactly the max');
SELECT is(pg_temp.verdict('P-B', '{"side": "sell", "qty": 27}'), 'POSITION_EXCEEDS_MAX',
          'a position above the max may not flip to a new short beyond the max, though the short is smaller than the long was');

-- tr_pre_trade_check over the inbox
DELETE FROM tr_risk_state;
SELECT pg_temp.risk('{"scope": "C-H", "trading_state": "halted"}');
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES
    ('C1', 'decision', 'C1', 'C-A', '{"side": "buy", "qty": 1}'),
    ('C2', 'decision', 'C2', 'C-A', '{"side": "buy"}'),
    ('C3', 'decision', 'C3', 'C-H', '{"side": "buy", "qty": 1}');
SELECT results_eq($$SELECT order_id, reason FROM tr_pre_trade_check(ARRAY['C1', 'C2', 'C3']) ORDER BY order_id$$,
                  $$VALUES ('C1', 'OK'), ('C2', 'INVALID_ORDER_SPEC'), ('C3', 'TRADING_HALTED')$$,
                  'the batch check answers each work item with OK or its reason code');
SELECT is((SELECT detail FROM tr_pre_trade_check(ARRAY['C2'])), 'qty: missing', 'the batch check passes on the detail for people');
SELECT is((SELECT count(*) FROM tr_pre_trade_check(ARRAY['C1', 'C2', 'C3', 'NOPE'])), 4::bigint, 'the batch check returns one row per id asked');
SELECT results_eq($$SELECT order_id, reason FROM tr_pre_trade_check(ARRAY['NOPE'])$$,
                  $$VALUES ('NOPE', 'UNKNOWN_ORDER')$$,
                  'an id not in the inbox is answered UNKNOWN_ORDER under that id, so the worker knows which one');

-- tr_orders_to_cancel
DELETE FROM tr_risk_state; DELETE FROM tr_inbox;
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, state, created_at) VALUES
    ('K1', 'decision', 'K1', 'K-A', '{"side": "buy", "qty": 1}', 'working', '2026-01-01 00:00:01+00'),
    ('K2', 'decision', 'K2', 'K-A', '{"side": "buy", "qty": 1}', 'pending', '2026-01-01 00:00:02+00'),
    ('K3', 'decision', 'K3', 'K-B', '{"side": "buy", "qty": 1}', 'working', '2026-01-01 00:00:03+00');
SELECT is_empty($$SELECT * FROM tr_orders_to_cancel()$$, 'without a halt no working order is to be cancelled');
SELECT pg_temp.risk('{"scope": "K-A", "trading_state": "reducing"}');
SELECT is_empty($$SELECT * FROM tr_orders_to_cancel()$$, 'reducing does not cancel orders already working');
SELECT pg_temp.risk('{"scope": "K-A", "trading_state": "halted"}');
SELECT results_eq($$SELECT order_id, symbol, reason FROM tr_orders_to_cancel()$$,
                  $$VALUES ('K1', 'K-A', 'TRADING_HALTED')$$,
                  'after a symbol halt its working orders are to be cancelled; pending ones and other symbols are not');
SELECT pg_temp.risk('{"scope": "global", "trading_state": "halted"}');
SELECT results_eq($$SELECT order_id FROM tr_orders_to_cancel()$$, ARRAY['K1', 'K3'],
                  'after a global halt every working order is to be cancelled, oldest first');

-- Privileges
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES ('C1', 'decision', 'C1', 'C-A', '{"side": "buy", "qty": 1}');
SET ROLE tr_worker;
SELECT results_eq($$SELECT order_id, reason FROM tr_pre_trade_check(ARRAY['C1'])$$, $$VALUES ('C1', 'TRADING_HALTED')$$,
                  'the worker can run the pre-trade check');
SELECT is((SELECT count(*) FROM tr_orders_to_cancel()), 2::bigint, 'the worker can list the orders to cancel');
RESET ROLE;
SET ROLE rm_module;
SELECT throws_ok($$SELECT * FROM tr_pre_trade_check(ARRAY['C1'])$$, '42501', NULL, 'the Risk Manager cannot run the pre-trade check');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
