-- The paper venue: a simulated exchange whose fills follow from the quotes and the
-- venue's params alone, so that routing decisions and execution quality can be
-- tested and replayed. Expected prices are derived from tr_venues.params here, the
-- same formula a user reads in the venue's documentation, rounded to 8 places.
BEGIN;
SELECT plan(40);

DELETE FROM tr_paper_orders; DELETE FROM tr_inbox; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;

SELECT results_eq(
    $$SELECT name, adapter, enabled FROM tr_venues WHERE name IN ('paper_a', 'paper_b') ORDER BY name$$,
    $$VALUES ('paper_a', 'paper', true), ('paper_b', 'paper', true)$$,
    'two paper venues, paper_a and paper_b, are seeded and enabled so routing has a real choice');
SELECT ok((SELECT a.params->'fee_bps' <> b.params->'fee_bps'
              AND a.params->'impact_bps_per_unit' <> b.params->'impact_bps_per_unit'
              AND a.params->'latency_ms' <> b.params->'latency_ms'
             FROM tr_venues a, tr_venues b WHERE a.name = 'paper_a' AND b.name = 'paper_b'),
          'the two paper venues differ in fees, price impact and latency');

CREATE TEMP TABLE p AS
SELECT name AS venue, (params->>'fee_bps')::numeric AS fee, (params->>'impact_bps_per_unit')::numeric AS impact,
       (params->>'latency_ms')::numeric AS latency
  FROM tr_venues WHERE name IN ('paper_a', 'paper_b');
CREATE TEMP TABLE ans (k text PRIMARY KEY, a jsonb);

-- market orders -------------------------------------------------------------------
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('SYM', ARRAY['tr:market_update'], '{"bid": 100, "ask": 100.5}');
INSERT INTO ans VALUES
    ('MB-A', tr_paper_submit('paper_a', '{"client_order_id": "MB-A", "symbol": "SYM", "side": "buy", "qty": 2}')),
    ('MB-B', tr_paper_submit('paper_b', '{"client_order_id": "MB-B", "symbol": "SYM", "side": "buy", "qty": 2}')),
    ('MS-A', tr_paper_submit('paper_a', '{"client_order_id": "MS-A", "symbol": "SYM", "side": "sell", "qty": 3, "order_type": "market"}')),
    ('MS-B', tr_paper_submit('paper_b', '{"client_order_id": "MS-B", "symbol": "SYM", "side": "sell", "qty": 3}'));

SELECT results_eq(
    $$SELECT a->>'status', jsonb_array_length(a->'fills'), (a->'fills'->0->>'px')::numeric, (a->'fills'->0->>'qty')::numeric,
             (a->'fills'->0->>'fee')::numeric, a->'fills'->0->>'fill_id'
        FROM ans WHERE k = 'MB-A'$$,
    $$SELECT 'filled', 1, px, 2::numeric, round(px * 2 * fee / 10000, 8), 'paper_a-MB-A-1'
        FROM (SELECT round(100.5 * (1 + impact * 2 / 10000), 8) AS px, fee FROM p WHERE venue = 'paper_a') x$$,
    'on paper_a a market buy fills whole at the ask moved up by impact_bps_per_unit x qty, paying fee_bps of the notional');
SELECT results_eq(
    $$SELECT (a->'fills'->0->>'px')::numeric, (a->'fills'->0->>'fee')::numeric FROM ans WHERE k = 'MB-B'$$,
    $$SELECT px, round(px * 2 * fee / 10000, 8)
        FROM (SELECT round(100.5 * (1 + impact * 2 / 10000), 8) AS px, fee FROM p WHERE venue = 'paper_b') x$$,
    'on paper_b the same market buy fills with paper_b''s own impact and fee');
SELECT results_eq(
    $$SELECT k, a->>'status', (a->'fills'->0->>'px')::numeric, (a->'fills'->0->>'fee')::numeric FROM ans WHERE k IN ('MS-A', 'MS-B') ORDER BY k$$,
    $$SELECT 'MS-' || upper(right(venue, 1)), 'filled', px, round(px * 3 * fee / 10000, 8)
        FROM (SELECT venue, round(100 * (1 - impact * 3 / 10000), 8) AS px, fee FROM p) x ORDER BY venue$$,
    'a market sell fills at the bid moved down by impact, on each venue with its own params');
-- Guards the two assertions above against a formula that ignores the venue.
SELECT isnt((SELECT a->'fills'->0->'px' FROM ans WHERE k = 'MB-A'), (SELECT a->'fills'->0->'px' FROM ans WHERE k = 'MB-B'),
            'the venue''s impact changes the price, so the cheaper venue is visible in the fills');
SELECT results_eq(
    $$SELECT k, (a->'fills'->0->>'ts')::timestamptz - (a->>'submitted_at')::timestamptz FROM ans WHERE k IN ('MB-A', 'MB-B') ORDER BY k$$,
    $$SELECT 'MB-' || upper(right(venue, 1)), latency * interval '1 millisecond' FROM p ORDER BY venue$$,
    'a fill is stamped latency_ms after the order was submitted, per venue');
SELECT results_eq(
    $$SELECT venue, client_order_id, symbol, side, qty, order_type, tif, status, venue_order_id FROM tr_paper_orders WHERE client_order_id = 'MB-A'$$,
    $$SELECT 'paper_a', 'MB-A', 'SYM', 'buy', 2::numeric, 'market', 'ioc', 'filled', a->>'venue_order_id' FROM ans WHERE k = 'MB-A'$$,
    'the venue keeps the order in its own book under the client order id, as a market ioc order with the id it answered');

-- per-symbol slippage -------------------------------------------------------------
UPDATE tr_venues SET params = jsonb_set(params, '{slippage_multipliers}', '{"SYM": 3}') WHERE name = 'paper_a';
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('OTH', ARRAY['tr:market_update'], '{"bid": 100, "ask": 100.5}');
INSERT INTO ans VALUES
    ('SM-SYM', tr_paper_submit('paper_a', '{"client_order_id": "SM-SYM", "symbol": "SYM", "side": "buy", "qty": 2}')),
    ('SM-OTH', tr_paper_submit('paper_a', '{"client_order_id": "SM-OTH", "symbol": "OTH", "side": "buy", "qty": 2}')),
    ('SM-B', tr_paper_submit('paper_b', '{"client_order_id": "SM-B", "symbol": "SYM", "side": "buy", "qty": 2}'));
SELECT results_eq(
    $$SELECT (a->'fills'->0->>'px')::numeric FROM ans WHERE k = 'SM-SYM'$$,
    $$SELECT round(100.5 * (1 + impact * 2 * 3 / 10000), 8) FROM p WHERE venue = 'paper_a'$$,
    'a slippage multiplier of 3 on a symbol triples the venue''s impact on that symbol');
SELECT results_eq(
    $$SELECT k, (a->'fills'->0->>'px')::numeric FROM ans WHERE k IN ('SM-OTH', 'SM-B') ORDER BY k$$,
    $$SELECT 'SM-' || CASE venue WHEN 'paper_a' THEN 'OTH' ELSE 'B' END, round(100.5 * (1 + impact * 2 / 10000), 8) FROM p ORDER BY venue DESC$$,
    'the multiplier applies to that symbol on that venue only: other symbols and other venues keep their impact');
UPDATE tr_venues SET params = jsonb_set(params, '{slippage_multipliers}', '{}') WHERE name = 'paper_a';

-- limit orders --------------------------------------------------------------------
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('LIM', ARRAY['tr:market_update'], '{"bid": 100, "ask": 100.5}');
INSERT INTO ans VALUES
    ('LB-IN', tr_paper_submit('paper_a', '{"client_order_id": "LB-IN", "symbol": "LIM", "side": "buy", "qty": 2, "order_type": "limit", "limit_px": 100.51}')),
    ('LB-OUT', tr_paper_submit('paper_a', '{"client_order_id": "LB-OUT", "symbol": "LIM", "side": "buy", "qty": 2, "order_type": "limit", "limit_px": 101}')),
    ('LS-IN', tr_paper_submit('paper_a', '{"client_order_id": "LS-IN", "symbol": "LIM", "side": "sell", "qty": 2, "order_type": "limit", "limit_px": 99.99}')),
    ('LB-GTC', tr_paper_submit('paper_a', '{"client_order_id": "LB-GTC", "symbol": "LIM", "side": "buy", "qty": 1, "order_type": "limit", "limit_px": 100.4, "tif": "gtc"}')),
    ('LB-IOC', tr_paper_submit('paper_a', '{"client_order_id": "LB-IOC", "symbol": "LIM", "side": "buy", "qty": 1, "order_type": "limit", "limit_px": 100.4, "tif": "ioc"}'));
-- The limits straddle the impacted ask for 2 on paper_a (100.5 moved up by 2 bps):
-- 100.51 is below it, 101 above it; both are at or above the ask, so marketable.
SELECT results_eq(
    $$SELECT a->>'status', (a->'fills'->0->>'px')::numeric, (a->'fills'->0->>'fee')::numeric FROM ans WHERE k = 'LB-IN'$$,
    $$SELECT 'filled', 100.51, round(100.51 * 2 * fee / 10000, 8) FROM p WHERE venue = 'paper_a'$$,
    'a marketable limit buy below the impacted ask fills at its limit, never above it');
SELECT results_eq(
    $$SELECT a->>'status', (a->'fills'->0->>'px')::numeric FROM ans WHERE k = 'LB-OUT'$$,
    $$SELECT 'filled', round(100.5 * (1 + impact * 2 / 10000), 8) FROM p WHERE venue = 'paper_a'$$,
    'a marketable limit buy above the impacted ask fills at the impacted ask, the better price');
SELECT results_eq(
    $$SELECT a->>'status', (a->'fills'->0->>'px')::numeric FROM ans WHERE k = 'LS-IN'$$,
    $$VALUES ('filled', 99.99)$$,
    'a marketable limit sell above the impacted bid fills at its limit, never below it');
SELECT results_eq(
    $$SELECT a->>'status', a->>'reason', a->'fills' FROM ans WHERE k = 'LB-GTC'$$,
    $$VALUES ('working', NULL::text, '[]'::jsonb)$$,
    'a gtc limit buy below the ask rests at the venue as working, with no fills');
SELECT results_eq(
    $$SELECT a->>'status', a->>'reason', a->'fills' FROM ans WHERE k = 'LB-IOC'$$,
    $$VALUES ('cancelled', 'NOT_MARKETABLE', '[]'::jsonb)$$,
    'an ioc limit buy that cannot fill now is cancelled with reason NOT_MARKETABLE');

-- resting orders and later quotes -------------------------------------------------
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('RST', ARRAY['tr:market_update'], '{"bid": 100, "ask": 100.5}');
INSERT INTO ans VALUES
    ('RB', tr_paper_submit('paper_a', '{"client_order_id": "RB", "symbol": "RST", "side": "buy", "qty": 1, "order_type": "limit", "limit_px": 100}')),
    ('RS', tr_paper_submit('paper_b', '{"client_order_id": "RS", "symbol": "RST", "side": "sell", "qty": 2, "order_type": "limit", "limit_px": 101}'));
SELECT results_eq($$SELECT k, a->>'status' FROM ans WHERE k IN ('RB', 'RS') ORDER BY k$$, $$VALUES ('RB', 'working'), ('RS', 'working')$$,
                  'a limit order without tif rests (gtc) when the quote does not reach it');

-- Quote times come from the clock so that they are later than the submissions.
INSERT INTO md_strand (symbol, tags, market_data)
VALUES ('RST', ARRAY['tr:market_update'], jsonb_build_object('bid', 100.2, 'ask', 100.4, 'ts', clock_timestamp()));
SELECT results_eq($$SELECT client_order_id, status FROM tr_paper_orders WHERE symbol = 'RST' ORDER BY client_order_id$$,
                  $$VALUES ('RB', 'working'), ('RS', 'working')$$,
                  'a later quote that crosses neither resting order leaves both working');

-- Applied, this crossed quote would fill both (ask 99.5 <= 100, bid 101.5 >= 101).
INSERT INTO md_strand (symbol, tags, market_data)
VALUES ('RST', ARRAY['tr:market_update'], jsonb_build_object('bid', 101.5, 'ask', 99.5, 'ts', clock_timestamp()));
SELECT results_eq($$SELECT client_order_id, status, fills FROM tr_paper_orders WHERE symbol = 'RST' ORDER BY client_order_id$$,
                  $$VALUES ('RB', 'working', '[]'::jsonb), ('RS', 'working', '[]'::jsonb)$$,
                  'a refused quote (bid above ask) fills no resting order');

INSERT INTO md_strand (symbol, tags, market_data)
VALUES ('RST', ARRAY['tr:market_update'], jsonb_build_object('bid', 99.8, 'ask', 100, 'ts', clock_timestamp()));
SELECT results_eq(
    $$SELECT o->>'status', (o->'fills'->0->>'px')::numeric, (o->'fills'->0->>'qty')::numeric, (o->'fills'->0->>'fee')::numeric,
             (o->'fills'->0->>'ts')::timestamptz
        FROM tr_paper_order('paper_a', 'RB') o$$,
    $$SELECT 'filled', 100::numeric, 1::numeric, round(100 * 1 * fee / 10000, 8), (SELECT quote_ts FROM tr_quotes WHERE symbol = 'RST')
        FROM p WHERE venue = 'paper_a'$$,
    'a later ask at the limit fills a resting buy at its limit, with the venue''s fee, stamped at the quote''s time');
SELECT is((SELECT status FROM tr_paper_orders WHERE client_order_id = 'RS'), 'working',
          'a quote whose bid is below a resting sell''s limit leaves the sell working');

INSERT INTO md_strand (symbol, tags, market_data)
VALUES ('RST', ARRAY['tr:market_update'], jsonb_build_object('bid', 101.3, 'ask', 101.6, 'ts', clock_timestamp()));
SELECT results_eq(
    $$SELECT o->>'status', (o->'fills'->0->>'px')::numeric, (o->'fills'->0->>'fee')::numeric FROM tr_paper_order('paper_b', 'RS') o$$,
    $$SELECT 'filled', 101::numeric, round(101 * 2 * fee / 10000, 8) FROM p WHERE venue = 'paper_b'$$,
    'a later bid above a resting sell''s limit fills it at its limit, not at the bid, with its venue''s fee');

-- no market data ------------------------------------------------------------------
INSERT INTO ans VALUES ('NQ', tr_paper_submit('paper_a', '{"client_order_id": "NQ", "symbol": "NOQ", "side": "buy", "qty": 1}'));
SELECT results_eq($$SELECT a->>'status', a->>'reason', a->'fills' FROM ans WHERE k = 'NQ'$$,
                  $$VALUES ('rejected', 'NO_MARKET_DATA', '[]'::jsonb)$$,
                  'an order for a symbol without any quote is rejected with reason NO_MARKET_DATA');

-- one order per client order id -----------------------------------------------------
INSERT INTO ans VALUES ('MB-A again', tr_paper_submit('paper_a', '{"client_order_id": "MB-A", "symbol": "SYM", "side": "sell", "qty": 5}'));
SELECT is((SELECT a FROM ans WHERE k = 'MB-A again'), (SELECT a || '{"duplicate": true}' FROM ans WHERE k = 'MB-A'),
          'resubmitting a client order id answers with the existing order, marked duplicate, whatever the new order says');
SELECT results_eq($$SELECT count(*), min(side), min(qty) FROM tr_paper_orders WHERE venue = 'paper_a' AND client_order_id = 'MB-A'$$,
                  $$VALUES (1::bigint, 'buy', 2::numeric)$$,
                  'a resubmission creates no second order and leaves the first unchanged');
SELECT results_eq(
    $$SELECT n, a->>'client_order_id', a->>'status', coalesce((a->>'duplicate')::boolean, false)
        FROM tr_paper_submit_batch('paper_a', '[{"client_order_id": "BT-1", "symbol": "SYM", "side": "buy", "qty": 1},
                                               {"client_order_id": "BT-2", "symbol": "NOQ", "side": "sell", "qty": 1},
                                               {"client_order_id": "BT-1", "symbol": "SYM", "side": "buy", "qty": 1}]') WITH ORDINALITY AS t(a, n)$$,
    $$VALUES (1::bigint, 'BT-1', 'filled', false), (2, 'BT-2', 'rejected', false), (3, 'BT-1', 'filled', true)$$,
    'a batch answers each order in the order given, and a client order id repeated within the batch is a duplicate');
SELECT is((SELECT count(*) FROM tr_paper_orders WHERE client_order_id = 'BT-1'), 1::bigint,
          'a client order id repeated within a batch is still one order');

-- looking orders up -----------------------------------------------------------------
SELECT is(tr_paper_order('paper_a', 'MB-A'), (SELECT a FROM ans WHERE k = 'MB-A'),
          'tr_paper_order answers for a known client order id exactly as the submission did');
SELECT is(tr_paper_order('paper_a', 'NOPE'), NULL::jsonb, 'tr_paper_order is NULL for a client order id the venue never saw');
SELECT is(tr_paper_order('paper_b', 'MB-A'), NULL::jsonb, 'a venue answers only for orders sent to it');

-- cancelling ------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT o->>'status', o->>'reason', o->>'venue_order_id' FROM tr_paper_cancel('paper_a', 'LB-GTC') o$$,
    $$SELECT 'cancelled', 'CANCELLED_BY_CLIENT', a->>'venue_order_id' FROM ans WHERE k = 'LB-GTC'$$,
    'tr_paper_cancel cancels a resting order and answers with it');
SELECT is((SELECT status FROM tr_paper_orders WHERE client_order_id = 'LB-GTC'), 'cancelled', 'the cancellation is kept in the venue''s book');
-- Applied to a working order, this ask would fill LB-GTC at 100.4.
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('LIM', ARRAY['tr:market_update'], '{"bid": 100, "ask": 100.1}');
SELECT results_eq($$SELECT status, fills FROM tr_paper_orders WHERE client_order_id = 'LB-GTC'$$, $$VALUES ('cancelled', '[]'::jsonb)$$,
                  'a cancelled order is not filled by a later crossing quote');
SELECT is(tr_paper_cancel('paper_a', 'MB-A'), (SELECT a FROM ans WHERE k = 'MB-A'),
          'cancelling a filled order returns it unchanged');
SELECT is((SELECT status FROM tr_paper_orders WHERE client_order_id = 'MB-A'), 'filled', 'a filled order stays filled after a cancel request');
SELECT is(tr_paper_cancel('paper_a', 'NOPE'), NULL::jsonb, 'cancelling an unknown client order id answers NULL');

-- determinism -----------------------------------------------------------------------
-- The same quote and the same orders, replayed on an emptied book, give the same fills.
CREATE TEMP TABLE run (n int, k text, status text, px numeric, fee numeric);
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('DET', ARRAY['tr:market_update'], '{"bid": 250, "ask": 250.75}');
INSERT INTO run SELECT 1, a->>'client_order_id', a->>'status', (a->'fills'->0->>'px')::numeric, (a->'fills'->0->>'fee')::numeric
  FROM tr_paper_submit_batch('paper_b', '[{"client_order_id": "D1", "symbol": "DET", "side": "buy", "qty": 4},
                                         {"client_order_id": "D2", "symbol": "DET", "side": "sell", "qty": 2.5},
                                         {"client_order_id": "D3", "symbol": "DET", "side": "buy", "qty": 1, "order_type": "limit", "limit_px": 250.76}]') a;
DELETE FROM tr_paper_orders WHERE symbol = 'DET';
DELETE FROM tr_quotes WHERE symbol = 'DET';
INSERT INTO md_strand (symbol, tags, market_data) VALUES ('DET', ARRAY['tr:market_update'], '{"bid": 250, "ask": 250.75}');
INSERT INTO run SELECT 2, a->>'client_order_id', a->>'status', (a->'fills'->0->>'px')::numeric, (a->'fills'->0->>'fee')::numeric
  FROM tr_paper_submit_batch('paper_b', '[{"client_order_id": "D1", "symbol": "DET", "side": "buy", "qty": 4},
                                         {"client_order_id": "D2", "symbol": "DET", "side": "sell", "qty": 2.5},
                                         {"client_order_id": "D3", "symbol": "DET", "side": "buy", "qty": 1, "order_type": "limit", "limit_px": 250.76}]') a;
SELECT results_eq(
    $$SELECT r1.k, r1.status, r2.status = r1.status AND r2.px = r1.px AND r2.fee = r1.fee
        FROM run r1 JOIN run r2 ON r2.k = r1.k AND r2.n = 2 WHERE r1.n = 1 ORDER BY r1.k$$,
    $$VALUES ('D1', 'filled', true), ('D2', 'filled', true), ('D3', 'filled', true)$$,
    'the same quotes and orders give the same fills, prices and fees: the paper venue is deterministic');

-- venues that cannot take orders ------------------------------------------------------
UPDATE tr_venues SET enabled = false WHERE name = 'paper_b';
SELECT throws_ok($$SELECT tr_paper_submit('paper_b', '{"client_order_id": "X1", "symbol": "SYM", "side": "buy", "qty": 1}')$$,
                 '22023', 'no enabled paper venue ''paper_b''', 'a disabled paper venue refuses orders');
SELECT throws_ok($$SELECT tr_paper_submit('paper_z', '{"client_order_id": "X2", "symbol": "SYM", "side": "buy", "qty": 1}')$$,
                 '22023', 'no enabled paper venue ''paper_z''', 'an unknown venue refuses orders');
SELECT is((SELECT count(*) FROM tr_paper_orders WHERE client_order_id IN ('X1', 'X2')), 0::bigint,
          'a refused submission leaves nothing in the book');

INSERT INTO md_strand (symbol, tags, market_data) VALUES ('PV-LIQ', ARRAY['tr:market_update'], '{"bid": 100, "ask": 100.5}');
SELECT results_eq(
    $$SELECT p->>'status', p->>'reason', jsonb_array_length(p->'fills')
        FROM tr_paper_submit('paper_a', '{"client_order_id": "PV-HUGE", "symbol": "PV-LIQ", "side": "sell", "qty": 15000}') p$$,
    $$VALUES ('rejected', 'INSUFFICIENT_LIQUIDITY', 0)$$,
    'an order that would walk the simulated book to a zero or negative price is rejected, not filled');

SELECT * FROM finish();
ROLLBACK;
