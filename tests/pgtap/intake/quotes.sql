-- Market data and marks: what a position is worth between fills, from hand marks and
-- from the Market Data module's quotes. A quote the Trader cannot use must never fail
-- the Market Data module's own insert, so every bad quote is checked both ways: the
-- insert lives, and the reason is on record for an operator.
BEGIN;
SELECT plan(88);

DELETE FROM tr_inbox; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;
DELETE FROM tr_unapplied_input; DELETE FROM tr_execution_performance;

-- The JSON readers every trigger relies on to judge peer input without raising.
SELECT is(tr_json_numeric('12.5'), 12.5::numeric, 'a JSON number is read as its exact value');
SELECT is(tr_json_numeric('"0.10"'), 0.1::numeric, 'a numeric string is read as its value');
SELECT is(tr_json_numeric('" -3.5e2 "'), -350::numeric, 'a numeric string may carry a sign, an exponent and surrounding blanks');
SELECT is(tr_json_numeric('".5"'), 0.5::numeric, 'a numeric string may omit the leading zero');
SELECT is_empty(
    $$SELECT v FROM unnest(ARRAY['"NaN"', '"nan"', '"Infinity"', '"-Infinity"', '"inf"']::jsonb[]) AS v
       WHERE tr_json_numeric(v) IS NOT NULL$$,
    'NaN and Infinity strings, valid numerics in PostgreSQL, are never read as prices or quantities');
SELECT is_empty(
    $$SELECT v FROM unnest(ARRAY['"abc"', '"1.2.3"', '""', '"1,5"', '"0x1A"', '"5 5"', '{}', '{"px": 5}', '[1]',
                                 'true', 'null']::jsonb[]) AS v
       WHERE tr_json_numeric(v) IS NOT NULL$$,
    'junk text, objects, arrays, booleans and JSON null read as NULL instead of raising');
SELECT is(tr_json_numeric(NULL), NULL::numeric, 'a missing value reads as NULL');

SELECT is(tr_decimal_places(1.50000000000), 1, 'trailing zeros do not count as decimal places');
SELECT is(tr_decimal_places(100.00), 0, 'a whole number written with zeros after the point has no decimal places');
SELECT is(tr_decimal_places(0.12345678), 8, 'eight decimal places count as eight');
SELECT is(tr_decimal_places(0.123456789), 9, 'nine decimal places count as nine, so a ninth place is detectable');
SELECT is(tr_decimal_places(-0.125), 3, 'the sign does not change the count of decimal places');
SELECT is_empty(
    $$SELECT v FROM unnest(ARRAY[NULL, 'NaN', 'Infinity', '-Infinity']::numeric[]) AS v
       WHERE tr_decimal_places(v) IS NOT NULL$$,
    'NULL, NaN and the infinities have no decimal places (NULL)');

-- Hand marks: an operator's way to value a position when no quote comes; a bad price
-- is refused rather than guessed at.
SELECT tr_apply_fill('MK-L', 'buy', 2, 100);
SELECT tr_apply_fill('MK-S', 'sell', 3, 50);
SELECT tr_apply_fill('MK-F', 'buy', 1, 10);
SELECT tr_apply_fill('MK-F', 'sell', 1, 12);

SELECT results_eq($$SELECT mark_price, unrealized_pnl FROM tr_mark_position('MK-L', 110.25)$$,
                  $$VALUES (110.25::numeric, 20.5::numeric)$$,
                  'marking a long of 2 @ 100 at 110.25 returns unrealized PnL (110.25 - 100) x 2 = 20.5');
SELECT results_eq($$SELECT mark_price, unrealized_pnl, quantity, avg_price, realized_pnl, marked_at IS NOT NULL
                      FROM tr_positions WHERE symbol = 'MK-L'$$,
                  $$VALUES (110.25::numeric, 20.5::numeric, 2::numeric, 100::numeric, 0::numeric, true)$$,
                  'the hand mark is stored on the position, with its time, and leaves quantity, average and realized PnL alone');
SELECT is((SELECT unrealized_pnl FROM tr_mark_position('MK-L', 99)), -2::numeric,
          'a long marked below its average shows a loss: (99 - 100) x 2 = -2');
SELECT is((SELECT unrealized_pnl FROM tr_mark_position('MK-S', 45.5)), 13.5::numeric,
          'a short of 3 @ 50 marked at 45.5 gains: (45.5 - 50) x -3 = 13.5');
SELECT is((SELECT unrealized_pnl FROM tr_mark_position('MK-S', 52)), -6::numeric,
          'a short marked above its average shows a loss: (52 - 50) x -3 = -6');
SELECT is((SELECT unrealized_pnl FROM tr_mark_position('MK-F', 15)), 0::numeric,
          'a flat position has no unrealized PnL whatever the mark');

SELECT throws_ok($$SELECT tr_mark_position('MK-L', NULL)$$, '22023',
                 'mark price must be a positive finite price below 10^12, got NULL', 'a NULL mark price is refused');
SELECT throws_ok($$SELECT tr_mark_position('MK-L', 0)$$, '22023',
                 'mark price must be a positive finite price below 10^12, got 0', 'a zero mark price is refused');
SELECT throws_ok($$SELECT tr_mark_position('MK-L', -1)$$, '22023', NULL, 'a negative mark price is refused');
SELECT throws_ok($$SELECT tr_mark_position('MK-L', 'NaN')$$, '22023', NULL, 'a NaN mark price is refused');
SELECT throws_ok($$SELECT tr_mark_position('MK-L', 'Infinity')$$, '22023', NULL, 'an infinite mark price is refused');
SELECT throws_ok($$SELECT tr_mark_position('MK-L', 1e12)$$, '22023', NULL, 'a mark price of 10^12 or more is refused');
SELECT throws_ok($$SELECT tr_mark_position('NO-SUCH', 10)$$, 'P0002', 'no position in ''NO-SUCH'' to mark',
                 'marking a symbol without a position is an error, not a silent no-op');

-- Quotes. MK-L is long 2 @ 100, so each mark below reads off as (mark - 100) x 2.
INSERT INTO md_strand (id, symbol, tags, market_data)
VALUES ('Q1', 'MK-L', ARRAY['tr:market_update'], '{"bid": "104", "ask": "105", "ts": "2026-01-01T00:00:00Z"}');
SELECT results_eq($$SELECT bid, ask, last, mark, quote_ts, strand_id FROM tr_quotes WHERE symbol = 'MK-L'$$,
                  $$VALUES (104::numeric, 105::numeric, NULL::numeric, 104.5::numeric, '2026-01-01 00:00:00+00'::timestamptz, 'Q1')$$,
                  'a tagged quote becomes the symbol''s latest quote, marked at the mid of bid and ask, with its time and source row');
SELECT results_eq($$SELECT mark_price, unrealized_pnl, marked_at FROM tr_positions WHERE symbol = 'MK-L'$$,
                  $$VALUES (104.5::numeric, 9::numeric, '2026-01-01 00:00:00+00'::timestamptz)$$,
                  'the quote re-marks the position in the same transaction: (104.5 - 100) x 2 = 9, at the quote''s time');

INSERT INTO md_strand (symbol, tags, market_data) VALUES ('MK-L', ARRAY['tr:market_update'], '{"last": 106, "ts": "2026-01-01T00:00:01Z"}');
SELECT results_eq($$SELECT bid, ask, last, mark FROM tr_quotes WHERE symbol = 'MK-L'$$,
                  $$VALUES (NULL::numeric, NULL::numeric, 106::numeric, 106::numeric)$$,
                  'without bid and ask the mark is last, and the older bid and ask are not kept');
SELECT is((SELECT unrealized_pnl FROM tr_positions WHERE symbol = 'MK-L'), 12::numeric, 'a newer quote re-marks the position again');

INSERT INTO md_strand (symbol, tags, market_data)
VALUES ('MK-L', ARRAY['md:tick', 'tr:market_update'], '{"bid": 107, "ask": 108, "last": 110, "ts": "2026-01-01T00:00:02Z"}');
SELECT is((SELECT mark FROM tr_quotes WHERE symbol = 'MK-L'), 107.5::numeric,
          'with bid, ask and last the mid of bid and ask wins; the tag is found among other tags');
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('MK-L', ARRAY['tr:market_update'], '{"bid": 107, "last": 109, "ts": "2026-01-01T00:00:03Z"}');
SELECT is((SELECT mark FROM tr_quotes WHERE symbol = 'MK-L'), 109::numeric, 'a bid without an ask is no mid: the mark is last');
SELECT is((SELECT unrealized_pnl FROM tr_positions WHERE symbol = 'MK-L'), 18::numeric, 'the position follows: (109 - 100) x 2 = 18');

INSERT INTO md_strand (symbol, tags, market_data) VALUES ('MK-L', ARRAY['md:tick'], '{"last": 1, "ts": "2026-01-01T00:01:00Z"}');
SELECT results_eq($$SELECT (SELECT mark FROM tr_quotes WHERE symbol = 'MK-L'), (SELECT unrealized_pnl FROM tr_positions WHERE symbol = 'MK-L'),
                           (SELECT count(*) FROM tr_unapplied_input)$$,
                  $$VALUES (109::numeric, 18::numeric, 0::bigint)$$,
                  'an md_strand row without tr:market_update is none of the Trader''s business: no quote, no mark, nothing recorded');

INSERT INTO md_strand (symbol, tags, market_data)
VALUES (NULL, ARRAY['tr:market_update'], '{"symbol": "MK-S", "last": "48", "ts": "2026-01-01T00:00:00Z"}');
SELECT results_eq($$SELECT q.mark, p.unrealized_pnl FROM tr_quotes q JOIN tr_positions p USING (symbol) WHERE symbol = 'MK-S'$$,
                  $$VALUES (48::numeric, 6::numeric)$$,
                  'a quote may name its symbol in market_data; a short of 3 @ 50 marked at 48 gains 6');
SELECT is((SELECT mark_price FROM tr_positions WHERE symbol = 'MK-L'), 109::numeric, 'a quote for one symbol leaves other positions alone');

INSERT INTO md_strand (symbol, tags, market_data) VALUES ('MK-Q', ARRAY['tr:market_update'], '{"last": 10, "ts": 1767225600250}');
SELECT is((SELECT quote_ts FROM tr_quotes WHERE symbol = 'MK-Q'), '2026-01-01 00:00:00.25+00'::timestamptz,
          'ts in epoch milliseconds is accepted');
SELECT is((SELECT count(*) FROM tr_positions WHERE symbol = 'MK-Q'), 0::bigint, 'a quote for a symbol without a position creates none');
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('MK-Q', ARRAY['tr:market_update'], '{"last": 10, "ts": 1767225601}');
SELECT is((SELECT quote_ts FROM tr_quotes WHERE symbol = 'MK-Q'), '2026-01-01 00:00:01+00'::timestamptz,
          'ts in epoch seconds is accepted');
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('MK-Q', ARRAY['tr:market_update'], '{"last": 10, "ts": "2026-01-01T02:00:02+02:00"}');
SELECT is((SELECT quote_ts FROM tr_quotes WHERE symbol = 'MK-Q'), '2026-01-01 00:00:02+00'::timestamptz,
          'ts as ISO 8601 text with an offset is accepted');
INSERT INTO md_strand (symbol, tags, market_data, created_at)
VALUES ('MK-Q', ARRAY['tr:market_update'], '{"last": 11}', '2026-01-01 00:00:03+00');
SELECT results_eq($$SELECT mark, quote_ts FROM tr_quotes WHERE symbol = 'MK-Q'$$,
                  $$VALUES (11::numeric, '2026-01-01 00:00:03+00'::timestamptz)$$,
                  'a quote without ts is timed by its row''s created_at');

-- A fill between quotes must not overwrite the market's mark with its own price.
SELECT tr_apply_fill('MK-L', 'buy', 2, 120);
SELECT results_eq($$SELECT quantity, avg_price, mark_price, unrealized_pnl FROM tr_positions WHERE symbol = 'MK-L'$$,
                  $$VALUES (4::numeric, 110::numeric, 109::numeric, -4::numeric)$$,
                  'a fill after a quote keeps the position marked at the quote: (109 - 110) x 4 = -4');

-- Quotes that cannot be used. What MK-L (long 4 @ 110, quoted 109 at 00:00:03) looks like
-- before them is kept, so that a change made by any one of them shows at the end.
CREATE TEMP TABLE before_bad_quotes AS
SELECT p.quantity, p.avg_price, p.mark_price, p.marked_at, p.unrealized_pnl, p.realized_pnl, q.bid, q.ask, q.last, q.mark, q.quote_ts, q.strand_id
  FROM tr_positions p JOIN tr_quotes q USING (symbol) WHERE symbol = 'MK-L';
CREATE FUNCTION pg_temp.bad_quote(p_id text, p_symbol text, p_data jsonb) RETURNS text LANGUAGE sql AS $$
    INSERT INTO md_strand (id, symbol, tags, market_data) VALUES (p_id, p_symbol, ARRAY['tr:market_update'], p_data) RETURNING id
$$;
CREATE FUNCTION pg_temp.reason(p_id text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(reason, ',') FROM tr_unapplied_input WHERE strand_id = p_id
$$;

SELECT lives_ok($$SELECT pg_temp.bad_quote('B-CROSSED', 'MK-L', '{"bid": 110, "ask": 109.5, "ts": "2026-01-01T00:10:00Z"}')$$,
                'a crossed quote does not fail the Market Data module''s insert');
SELECT results_eq($$SELECT source_table, symbol, reason, detail, payload FROM tr_unapplied_input WHERE strand_id = 'B-CROSSED'$$,
                  $$VALUES ('md_strand', 'MK-L', 'CROSSED_QUOTE', 'bid 110 is above ask 109.5',
                            '{"bid": 110, "ask": 109.5, "ts": "2026-01-01T00:10:00Z"}'::jsonb)$$,
                  'a crossed quote is recorded as CROSSED_QUOTE with its table, symbol, a readable detail and the payload');

SELECT lives_ok($$SELECT pg_temp.bad_quote('B-NEG', 'MK-L', '{"last": -1, "ts": "2026-01-01T00:10:00Z"}')$$,
                'a negative price does not fail the insert');
SELECT is(pg_temp.reason('B-NEG'), 'INVALID_PRICE', 'a negative price is recorded as INVALID_PRICE');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-ZERO', 'MK-L', '{"bid": 0, "ask": 1, "ts": "2026-01-01T00:10:00Z"}')$$,
                'a zero price does not fail the insert');
SELECT is(pg_temp.reason('B-ZERO'), 'INVALID_PRICE', 'a zero price is recorded as INVALID_PRICE');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-NAN', 'MK-L', '{"last": "NaN", "ts": "2026-01-01T00:10:00Z"}')$$,
                'a "NaN" price does not fail the insert');
SELECT is(pg_temp.reason('B-NAN'), 'INVALID_PRICE', 'a "NaN" price is recorded as INVALID_PRICE');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-TEXT', 'MK-L', '{"bid": 108, "ask": "abc", "ts": "2026-01-01T00:10:00Z"}')$$,
                'a non-numeric price does not fail the insert');
SELECT is(pg_temp.reason('B-TEXT'), 'INVALID_PRICE', 'a non-numeric price is recorded as INVALID_PRICE');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-OBJ', 'MK-L', '{"last": {"px": 108}, "ts": "2026-01-01T00:10:00Z"}')$$,
                'a price given as an object does not fail the insert');
SELECT is(pg_temp.reason('B-OBJ'), 'INVALID_PRICE', 'a price given as an object is recorded as INVALID_PRICE');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-HUGE', 'MK-L', '{"last": 1e12, "ts": "2026-01-01T00:10:00Z"}')$$,
                'a price of 10^12 does not fail the insert');
SELECT is(pg_temp.reason('B-HUGE'), 'INVALID_PRICE', 'a price of 10^12 or more is recorded as INVALID_PRICE');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-NOPX', 'MK-L', '{"bid": 108, "ts": "2026-01-01T00:10:00Z"}')$$,
                'a quote with a bid only does not fail the insert');
SELECT is(pg_temp.reason('B-NOPX'), 'MISSING_PRICE', 'a quote with neither bid and ask nor last is recorded as MISSING_PRICE');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-NOSYM', NULL, '{"last": 108, "ts": "2026-01-01T00:10:00Z"}')$$,
                'a quote without a symbol does not fail the insert');
SELECT results_eq($$SELECT reason, symbol FROM tr_unapplied_input WHERE strand_id = 'B-NOSYM'$$,
                  $$VALUES ('MISSING_SYMBOL', NULL::text)$$, 'a quote without a symbol is recorded as MISSING_SYMBOL');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-BLANKSYM', '  ', '{"last": 108}')$$, 'a blank symbol does not fail the insert');
SELECT is(pg_temp.reason('B-BLANKSYM'), 'MISSING_SYMBOL', 'a blank symbol is no symbol: MISSING_SYMBOL');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-ARRAY', 'MK-L', '[108, 109]')$$, 'market_data that is an array does not fail the insert');
SELECT is(pg_temp.reason('B-ARRAY'), 'INVALID_MARKET_DATA', 'market_data that is not an object is recorded as INVALID_MARKET_DATA');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-NULLMD', 'MK-L', NULL)$$, 'a quote without market_data does not fail the insert');
SELECT is(pg_temp.reason('B-NULLMD'), 'INVALID_MARKET_DATA', 'a quote without market_data is recorded as INVALID_MARKET_DATA');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-TSWORD', 'MK-L', '{"last": 108, "ts": "yesterday"}')$$,
                'a ts that is not a timestamp does not fail the insert');
SELECT is(pg_temp.reason('B-TSWORD'), 'INVALID_TIMESTAMP', 'a ts in words is recorded as INVALID_TIMESTAMP');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-TSDATE', 'MK-L', '{"last": 108, "ts": "2026-02-30T00:00:00Z"}')$$,
                'an impossible date does not fail the insert');
SELECT is(pg_temp.reason('B-TSDATE'), 'INVALID_TIMESTAMP', 'an impossible date is recorded as INVALID_TIMESTAMP');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-TSZONE', 'MK-L', '{"last": 108, "ts": "2026-01-01T00:10:00+99:00"}')$$,
                'an out-of-range time zone offset does not fail the insert');
SELECT is(pg_temp.reason('B-TSZONE'), 'INVALID_TIMESTAMP', 'an out-of-range time zone offset is recorded as INVALID_TIMESTAMP');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-TSBOOL', 'MK-L', '{"last": 108, "ts": true}')$$, 'a boolean ts does not fail the insert');
SELECT is(pg_temp.reason('B-TSBOOL'), 'INVALID_TIMESTAMP', 'a boolean ts is recorded as INVALID_TIMESTAMP');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-TSNEG', 'MK-L', '{"last": 108, "ts": -5}')$$, 'a negative epoch ts does not fail the insert');
SELECT is(pg_temp.reason('B-TSNEG'), 'INVALID_TIMESTAMP', 'a negative epoch ts is recorded as INVALID_TIMESTAMP');
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-STALE', 'MK-L', '{"last": 108, "ts": "2026-01-01T00:00:02Z"}')$$,
                'a quote older than the current one does not fail the insert');
SELECT results_eq($$SELECT reason, symbol FROM tr_unapplied_input WHERE strand_id = 'B-STALE'$$,
                  $$VALUES ('STALE_QUOTE', 'MK-L')$$, 'a quote older than the current one is recorded as STALE_QUOTE');

SELECT is_empty(
    $$SELECT p.quantity, p.avg_price, p.mark_price, p.marked_at, p.unrealized_pnl, p.realized_pnl, q.bid, q.ask, q.last, q.mark, q.quote_ts, q.strand_id
        FROM tr_positions p JOIN tr_quotes q USING (symbol) WHERE symbol = 'MK-L'
      EXCEPT SELECT * FROM before_bad_quotes$$,
    'no unusable quote changed the latest quote or the position''s mark');
SELECT is((SELECT count(*) FROM tr_quotes), 3::bigint, 'no unusable quote made a quote for any symbol');
SELECT results_eq($$SELECT count(*), count(DISTINCT strand_id) FROM tr_unapplied_input$$, $$VALUES (18::bigint, 18::bigint)$$,
                  'each unusable quote is recorded exactly once');
SELECT is((SELECT count(*) FROM md_strand WHERE id LIKE 'B-%'), 18::bigint, 'every unusable quote is still in md_strand');

-- A usable quote must not fail the insert even when the PnL it implies does not fit
-- the DECIMAL(20,8) column: the peer's insert outranks the Trader's bookkeeping.
SELECT tr_apply_fill('MK-BIG', 'buy', 1000, 1);
SELECT lives_ok($$SELECT pg_temp.bad_quote('B-OVERFLOW', 'MK-BIG', '{"last": 999999999999}')$$,
                'a quote whose unrealized PnL would overflow the position does not fail the Market Data module''s insert');
SELECT is((SELECT reason FROM tr_unapplied_input WHERE strand_id = 'B-OVERFLOW'), 'MARK_OUT_OF_RANGE',
          'such a quote is recorded as MARK_OUT_OF_RANGE and not applied');
SELECT throws_ok($$SELECT tr_mark_position('MK-BIG', 999999999999)$$, '22003', 'marking MK-BIG at 999999999999 puts unrealized PnL out of range',
                 'marking by hand past DECIMAL(20,8) says so');
SELECT pg_temp.bad_quote('B-FUTURE', 'MK-FUT', jsonb_build_object('last', 10, 'ts', clock_timestamp() + interval '1 day'));
SELECT is((SELECT reason FROM tr_unapplied_input WHERE strand_id = 'B-FUTURE'), 'INVALID_TIMESTAMP',
          'a quote dated a day ahead is refused, so it cannot make every real quote after it stale');
SELECT pg_temp.bad_quote('B-EPOCHTEXT', 'MK-FUT', '{"last": 10, "ts": "2026-01-01 epoch"}');
SELECT is((SELECT reason FROM tr_unapplied_input WHERE strand_id = 'B-EPOCHTEXT'), 'INVALID_TIMESTAMP',
          'text that only starts like a date is not a timestamp');
INSERT INTO md_strand (id, symbol, tags, market_data) VALUES ('B-BLANKSYM-2', '  ', ARRAY['tr:market_update'], '{"symbol": "MK-BLANK", "last": 12}');
SELECT is((SELECT mark FROM tr_quotes WHERE symbol = 'MK-BLANK'), 12::numeric, 'a blank row symbol falls back to market_data.symbol');

SELECT * FROM finish();
ROLLBACK;
