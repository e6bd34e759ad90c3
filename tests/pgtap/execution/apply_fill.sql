-- Netting bookkeeping: every number a trader reads off a position.
BEGIN;
SELECT plan(49);

DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes; DELETE FROM tr_inbox;

CREATE TEMP TABLE seen AS SELECT * FROM tr_positions WHERE false;
CREATE FUNCTION pg_temp.fill(p_side text, p_qty numeric, p_px numeric, p_fee numeric DEFAULT 0, p_symbol text DEFAULT 'WX-USD')
RETURNS tr_positions LANGUAGE sql AS $$ SELECT * FROM tr_apply_fill(p_symbol, p_side, p_qty, p_px, p_fee) $$;

-- The worked example (design contract), fees as given.
SELECT results_eq($$SELECT quantity, avg_price, realized_pnl FROM pg_temp.fill('buy', 12, 100, 0.12)$$,
    $$VALUES (12::numeric, 100::numeric, -0.12::numeric)$$, 'BUY 12 @ 100 opens a long at 100, the fee realized as a loss');
SELECT results_eq($$SELECT quantity, avg_price, realized_pnl FROM pg_temp.fill('buy', 17, 99, 0.1683)$$,
    $$VALUES (29::numeric, 99.41379310::numeric, -0.2883::numeric)$$, 'BUY 17 @ 99 moves the average to the weighted 99.41379310');
SELECT results_eq($$SELECT quantity, avg_price, realized_pnl FROM pg_temp.fill('sell', 9, 101, 0.0909)$$,
    $$VALUES (20::numeric, 99.41379310::numeric, 13.89666207::numeric)$$, 'SELL 9 @ 101 realizes against the unchanged average');
SELECT results_eq($$SELECT quantity, avg_price, realized_pnl FROM pg_temp.fill('sell', 4, 105, 0.042)$$,
    $$VALUES (16::numeric, 99.41379310::numeric, 36.19948966::numeric)$$, 'SELL 4 @ 105 adds to realized PnL');
SELECT results_eq($$SELECT quantity, avg_price, realized_pnl FROM pg_temp.fill('buy', 3, 103, 0.0309)$$,
    $$VALUES (19::numeric, 99.98003630::numeric, 36.16858966::numeric)$$, 'BUY 3 @ 103 averages from the unrounded average: 99.98003630');
SELECT ok((SELECT avg_price_exact BETWEEN 99.9800362976406 AND 99.9800362976407 AND scale(avg_price_exact) >= 16 FROM tr_positions WHERE symbol = 'WX-USD'),
    'the average is kept unrounded, to at least 16 places, beside the rounded column');
SELECT is((SELECT unrealized_pnl FROM tr_positions WHERE symbol = 'WX-USD'), round((103 - 99.980036297640653357531761) * 19, 8),
    'without a quote the position is marked at the latest fill');

-- Flip a long into a short: close the long, open the rest at the fill price.
SELECT results_eq($$SELECT quantity, avg_price, realized_pnl FROM pg_temp.fill('sell', 25, 110)$$,
    $$VALUES (-6::numeric, 110::numeric, 226.5479::numeric)$$, 'a sell larger than the long closes it and opens a short of the rest at the fill price');
SELECT results_eq($$SELECT quantity, avg_price, realized_pnl FROM pg_temp.fill('sell', 4, 120)$$,
    $$VALUES (-10::numeric, 114::numeric, 226.5479::numeric)$$, 'adding to a short averages like a long');
SELECT results_eq($$SELECT quantity, avg_price, realized_pnl FROM pg_temp.fill('buy', 5, 100, 1)$$,
    $$VALUES (-5::numeric, 114::numeric, 295.5479::numeric)$$, 'buying back part of a short realizes (avg - px) x qty, minus the fee');
SELECT results_eq($$SELECT quantity, avg_price, realized_pnl FROM pg_temp.fill('buy', 8, 90)$$,
    $$VALUES (3::numeric, 90::numeric, 415.5479::numeric)$$, 'a buy larger than the short flips it into a long at the fill price');
SELECT results_eq($$SELECT quantity, avg_price, realized_pnl FROM pg_temp.fill('sell', 3, 95)$$,
    $$VALUES (0::numeric, 0::numeric, 430.5479::numeric)$$, 'closing to flat leaves quantity and average at zero, realized PnL kept');
SELECT results_eq($$SELECT quantity, avg_price, realized_pnl FROM pg_temp.fill('buy', 2, 50, 0.5)$$,
    $$VALUES (2::numeric, 50::numeric, 430.0479::numeric)$$, 'reopening after flat starts a fresh average; realized PnL accumulates over the symbol''s life');

-- Partial fills are successive calls: three partials equal one fill of their sum.
SELECT pg_temp.fill('buy', 0.5, 10, 0, 'PF-A');
SELECT pg_temp.fill('buy', 0.25, 12, 0, 'PF-A');
SELECT pg_temp.fill('buy', 0.25, 14, 0, 'PF-A');
SELECT results_eq($$SELECT quantity, avg_price FROM tr_positions WHERE symbol = 'PF-A'$$, $$VALUES (1::numeric, 11.5::numeric)$$,
    'partial fills at 10, 12 and 14 average to 11.5');
SELECT pg_temp.fill('sell', 0.00000001, 11.5, 0, 'PF-A');
SELECT is((SELECT quantity FROM tr_positions WHERE symbol = 'PF-A'), 0.99999999::numeric, 'a fill of 1e-8 is applied exactly');

-- Shorts mirrored from flat.
SELECT results_eq($$SELECT quantity, avg_price, realized_pnl FROM pg_temp.fill('sell', 10, 50, 0.05, 'SH-A')$$,
    $$VALUES (-10::numeric, 50::numeric, -0.05::numeric)$$, 'a sell from flat opens a short');
SELECT results_eq($$SELECT quantity, realized_pnl FROM pg_temp.fill('buy', 10, 55, 0.05, 'SH-A')$$,
    $$VALUES (0::numeric, -50.1::numeric)$$, 'a short covered higher loses (px - avg) x qty plus fees');
SELECT is((SELECT count(*) FROM tr_positions WHERE symbol = 'SH-A'), 1::bigint, 'a symbol keeps one position row through its cycles');
SELECT is((pg_temp.fill('sell', 1, 10, -0.01, 'RB-A')).realized_pnl, 0.01::numeric, 'a negative fee is a rebate and adds to realized PnL');

-- Rounding never compounds: 3 buys at 1/3 steps, then many small sells.
SELECT pg_temp.fill('buy', 1, 10, 0, 'RC-A');
SELECT pg_temp.fill('buy', 1, 10.00000001, 0, 'RC-A');
SELECT pg_temp.fill('buy', 1, 10.00000003, 0, 'RC-A');
SELECT pg_temp.fill('sell', 0.1, 10.00000002, 0, 'RC-A') FROM generate_series(1, 30);
SELECT results_eq($$SELECT quantity, realized_pnl, abs(realized_pnl_exact - 0.00000002) < 1e-20 FROM tr_positions WHERE symbol = 'RC-A'$$,
    $$VALUES (0::numeric, 0.00000002::numeric, true)$$,
    'thirty partial closes realize what one close would, to 1e-20: no rounding error accumulates');

-- Position strands: open, flip and close each leave one, linked to the cycle's opening.
DELETE FROM tr_strand WHERE kind = 'position';
INSERT INTO tr_inbox (id, source, source_id, lifecycle_id, symbol, timeframe, order_spec)
VALUES ('PS-1', 'decision', 'PS-1', 'LC-PS', 'PS-A', '5m', '{"side": "buy", "qty": 4}'),
       ('PS-2', 'decision', 'PS-2', 'LC-PS', 'PS-A', '5m', '{"side": "buy", "qty": 4}'),
       ('PS-3', 'decision', 'PS-3', 'LC-PS', 'PS-A', '5m', '{"side": "sell", "qty": 10}'),
       ('PS-4', 'decision', 'PS-4', 'LC-PS', 'PS-A', '5m', '{"side": "buy", "qty": 2}');
SELECT tr_apply_fill('PS-A', 'buy', 4, 100, 0.4, 'PS-1', '2026-01-01 10:00+00');
SELECT is((SELECT count(*) FROM tr_strand WHERE kind = 'position' AND symbol = 'PS-A'), 1::bigint, 'opening from flat writes a position strand');
SELECT results_eq($$SELECT position_data->>'event', position_data->>'side', (position_data->>'quantity')::numeric,
                          (position_data->>'entry_avg')::numeric, lifecycle_id, timeframe, decision_id
                     FROM tr_strand WHERE kind = 'position' AND symbol = 'PS-A'$$,
    $$VALUES ('opened', 'long', 4::numeric, 100::numeric, 'LC-PS', '5m', 'PS-1')$$,
    'the opening strand carries the side, quantity, entry average and the order''s lifecycle');
SELECT tr_apply_fill('PS-A', 'buy', 4, 110, 0.4, 'PS-2', '2026-01-01 10:05+00');
SELECT is((SELECT count(*) FROM tr_strand WHERE kind = 'position' AND symbol = 'PS-A'), 1::bigint, 'adding to a position writes no position strand');
SELECT tr_apply_fill('PS-A', 'sell', 10, 120, 1.0, 'PS-3', '2026-01-01 11:00+00');
SELECT results_eq(
    $$SELECT position_data->>'event', position_data->>'side', (position_data->>'quantity')::numeric,
             (position_data->>'entry_avg')::numeric, (position_data->>'exit_avg')::numeric,
             (position_data->>'realized_pnl')::numeric, (position_data->>'fees')::numeric,
             (position_data->>'opened_at')::timestamptz, (position_data->>'closed_at')::timestamptz
        FROM tr_strand WHERE kind = 'position' AND symbol = 'PS-A' AND position_data->>'event' = 'flipped'$$,
    $$VALUES ('flipped', 'long', 8::numeric, 105::numeric, 120::numeric, 118.4::numeric, 1.6::numeric,
              '2026-01-01 10:00+00'::timestamptz, '2026-01-01 11:00+00'::timestamptz)$$,
    'a flip closes the cycle: entry and exit averages, realized PnL less the entry fees and 8/10 of the flip fee, times');
SELECT is((SELECT position_data->'orders' FROM tr_strand WHERE kind = 'position' AND position_data->>'event' = 'flipped'),
    '["PS-1", "PS-2", "PS-3"]'::jsonb, 'the cycle names the orders that made it');
SELECT results_eq(
    $$SELECT position_data->'next'->>'side', (position_data->'next'->>'quantity')::numeric, (position_data->'next'->>'entry_avg')::numeric
        FROM tr_strand WHERE kind = 'position' AND position_data->>'event' = 'flipped'$$,
    $$VALUES ('short', 2::numeric, 120::numeric)$$, 'the flip strand also says what opened on the other side');
SELECT is((SELECT parent_id FROM tr_strand WHERE kind = 'position' AND position_data->>'event' = 'flipped'),
          (SELECT id FROM tr_strand WHERE kind = 'position' AND position_data->>'event' = 'opened' AND symbol = 'PS-A'),
          'the closing strand points at the strand that opened the cycle');
SELECT tr_apply_fill('PS-A', 'buy', 2, 115, 0.2, 'PS-4', '2026-01-01 12:00+00');
SELECT results_eq(
    $$SELECT position_data->>'side', (position_data->>'realized_pnl')::numeric, position_data->'orders'
        FROM tr_strand WHERE kind = 'position' AND symbol = 'PS-A' AND position_data->>'event' = 'closed'$$,
    $$VALUES ('short', 9.6::numeric, '["PS-3", "PS-4"]'::jsonb)$$,
    'closing to flat writes the short cycle: 2 x (120 - 115) less 0.2 of the flip''s fee and 0.2 of its own');
SELECT is((SELECT count(*) FROM tr_strand WHERE kind = 'position' AND symbol = 'PS-A'), 3::bigint, 'open, flip and close: three position strands');
SELECT is((SELECT cycle FROM tr_positions WHERE symbol = 'PS-A'), NULL, 'a flat position has no open cycle');
SELECT is((SELECT sum((position_data->>'realized_pnl')::numeric) FROM tr_strand WHERE kind = 'position' AND symbol = 'PS-A' AND position_data->>'event' <> 'opened'),
          (SELECT realized_pnl FROM tr_positions WHERE symbol = 'PS-A'), 'the cycles'' realized PnL adds up to the position''s');

-- Bad input: a clear error with SQLSTATE, message and hint.
SELECT throws_ok($$SELECT pg_temp.fill('buy', 0, 10)$$, '22023', 'fill rejected: qty must be a positive finite number, got 0', 'a zero quantity is refused');
SELECT throws_ok($$SELECT pg_temp.fill('buy', -1, 10)$$, '22023', 'fill rejected: qty must be a positive finite number, got -1', 'a negative quantity is refused');
SELECT throws_ok($$SELECT pg_temp.fill('buy', NULL, 10)$$, '22023', 'fill rejected: qty must be a positive finite number, got NULL', 'a NULL quantity is refused');
SELECT throws_ok($$SELECT pg_temp.fill('buy', 'NaN', 10)$$, '22023', 'fill rejected: qty must be a positive finite number, got NaN', 'a NaN quantity is refused');
SELECT throws_ok($$SELECT pg_temp.fill('buy', 'Infinity', 10)$$, '22023', 'fill rejected: qty must be a positive finite number, got Infinity', 'an infinite quantity is refused');
SELECT throws_ok($$SELECT pg_temp.fill('buy', 1, NULL)$$, '22023', 'fill rejected: px must be a positive finite number, got NULL', 'a NULL price is refused');
SELECT throws_ok($$SELECT pg_temp.fill('buy', 1, 0)$$, '22023', 'fill rejected: px must be a positive finite number, got 0', 'a zero price is refused');
SELECT throws_ok($$SELECT pg_temp.fill('buy', 1, -5)$$, '22023', 'fill rejected: px must be a positive finite number, got -5', 'a negative price is refused');
SELECT throws_ok($$SELECT pg_temp.fill('buy', 1, 'NaN')$$, '22023', 'fill rejected: px must be a positive finite number, got NaN', 'a NaN price is refused');
SELECT throws_ok($$SELECT pg_temp.fill('hold', 1, 10)$$, '22023', 'fill rejected: side must be buy or sell, got ''hold''', 'an unknown side is refused');
SELECT throws_ok($$SELECT pg_temp.fill('buy', 1, 10, 0, '  ')$$, '22023', 'fill rejected: symbol is empty', 'an empty symbol is refused');
SELECT throws_ok($$SELECT pg_temp.fill('buy', 0.000000001, 10)$$, '22023', 'fill rejected: qty 0.000000001 has more than 8 decimal places', 'a quantity past 8 decimal places is refused, not rounded');
SELECT throws_ok($$SELECT pg_temp.fill('buy', 1, 10.123456789)$$, '22023', 'fill rejected: px 10.123456789 has more than 8 decimal places', 'a price past 8 decimal places is refused, not rounded');
SELECT lives_ok($$SELECT pg_temp.fill('buy', 1.500000000000, 10, 0, 'TZ-A')$$, 'trailing zeros are not decimal places');
SELECT throws_ok($$SELECT pg_temp.fill('buy', 1, 10, 'NaN')$$, '22023', 'fill rejected: fee must be a finite number, got NaN', 'a NaN fee is refused');
SELECT throws_ok($$SELECT pg_temp.fill('buy', 1e12, 10)$$, '22003', NULL, 'a quantity beyond DECIMAL(20,8) is refused');
SELECT is((SELECT count(*) FROM tr_positions WHERE symbol = 'WX-USD' AND quantity = 2), 1::bigint, 'refused fills changed nothing');

-- The hint is part of the error a user sees.
CREATE FUNCTION pg_temp.hint_of(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE v_hint text;
BEGIN
    EXECUTE p_sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_hint = PG_EXCEPTION_HINT;
    RETURN v_hint;
END $$;
SELECT is(pg_temp.hint_of($$SELECT pg_temp.fill('buy', 0.123456789, 10)$$),
          'Quantities and prices are kept to 8 decimal places and refused, not rounded, beyond.', 'a refused fill says how to fix it');

SELECT * FROM finish();
ROLLBACK;
