-- Fills from a venue's user stream: matched to their order by the exchange's order id
-- or the client order id, the status decided from the quantities, a fill counted once
-- whether the stream or a poll brought it first, and what cannot be matched yet held.
BEGIN;
SELECT plan(13);

DELETE FROM tr_paper_orders; DELETE FROM tr_inbox; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;

INSERT INTO tr_inbox (id, source, source_id, symbol, side, qty, order_type, limit_px, venue, venue_order_id, order_qty, status, state) VALUES
    ('W1', 'decision', 'W1', 'SA', 'buy', 2, 'limit', 100, 'ex', 'X-1', 2, 'working', 'working'),
    ('W2', 'decision', 'W2', 'SB', 'sell', 1, 'limit', 100, 'ex', 'X-2', 1, 'working', 'working'),
    ('W3', 'decision', 'W3', 'SC', 'buy', 1, 'market', NULL, 'ex', NULL, NULL, 'received', 'working'),
    ('W4', 'decision', 'W4', 'SD', 'buy', 1, 'limit', 100, 'other', 'X-4', 1, 'working', 'working');

CREATE FUNCTION pg_temp.f(p_id text, p_qty text, p_px text DEFAULT '100') RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('fill_id', p_id, 'px', p_px, 'qty', p_qty, 'fee', '0.01', 'ts', '2026-01-01T00:00:01Z')
$$;

SELECT is(tr_report_stream_fills('ex', jsonb_build_array(jsonb_build_object('venue_order_id', 'X-1', 'fills', jsonb_build_array(pg_temp.f('t1', '0.5'))))),
          '{"reported": ["W1"], "unmatched": []}', 'a fill named by the exchange''s order id is reported on its order');
SELECT results_eq($$SELECT status::text, filled_qty, (SELECT count(*)::int FROM tr_fills WHERE order_id = 'W1') FROM tr_inbox WHERE id = 'W1'$$,
                  $$VALUES ('partially_filled', 0.5, 1)$$, 'part of the quantity sent: partially filled');
SELECT is((SELECT fills->0->>'fill_id' FROM tr_strand WHERE kind = 'execution' AND decision_id = 'W1'), 't1',
          'the Decision Maker''s report carries the stream''s fill');

SELECT is(tr_report_stream_fills('ex', jsonb_build_array(
              jsonb_build_object('venue_order_id', 'X-1', 'fills', jsonb_build_array(pg_temp.f('t1', '0.5'))),
              jsonb_build_object('venue_order_id', 'X-1', 'fills', jsonb_build_array(pg_temp.f('t1', '0.5'))))),
          '{"reported": [], "unmatched": []}', 'the same fill again, twice in one batch: nothing new, nothing reported');
-- The poll brings the same fill and the next one, as polls bring every fill of the order.
SELECT results_eq($$SELECT order_id FROM tr_report_executions(jsonb_build_array(jsonb_build_object('order_id', 'W1', 'report',
                      jsonb_build_object('status', 'partially_filled', 'venue', 'ex', 'fills', jsonb_build_array(pg_temp.f('t1', '0.5'), pg_temp.f('t2', '0.5'))))))$$,
                  ARRAY['W1'], 'a poll reports the stream''s fill and a new one');
SELECT is(tr_report_stream_fills('ex', jsonb_build_array(jsonb_build_object('order_id', 'W1', 'fills', jsonb_build_array(pg_temp.f('t2', '0.5'), pg_temp.f('t3', '1', '101')))))->'reported',
          '["W1"]', 'named by the client order id: the fill the poll brought is left out, the new one reported');
SELECT results_eq($$SELECT status::text, filled_qty, (SELECT count(*)::int FROM tr_fills WHERE order_id = 'W1') FROM tr_inbox WHERE id = 'W1'$$,
                  $$VALUES ('filled', 2.0, 3)$$, 'the fills cover the quantity sent: filled, each fill counted once');
SELECT is((SELECT quantity FROM tr_positions WHERE symbol = 'SA'), 2.0::numeric(20,8), 'the position counts each fill once');

SELECT is(tr_report_stream_fills('ex', jsonb_build_array(
              jsonb_build_object('order_id', 'W3', 'fills', jsonb_build_array(pg_temp.f('t9', '1'))),
              jsonb_build_object('venue_order_id', 'X-404', 'fills', jsonb_build_array(pg_temp.f('t8', '1'))),
              jsonb_build_object('venue_order_id', 'X-4', 'fills', jsonb_build_array(pg_temp.f('t7', '1'))),
              jsonb_build_object('order_id', 'W1', 'fills', jsonb_build_array(pg_temp.f('t4', '1'))))),
          '{"reported": [], "unmatched": [0, 1, 2]}',
          'held: an order the venue has not answered for, an unknown exchange order id, another venue''s order; a final order''s fill is done with');
SELECT is((SELECT filled_qty FROM tr_inbox WHERE id = 'W3'), 0::numeric, 'an order not yet answered is not filled from the stream');

SELECT is(tr_report_stream_fills('ex', '[1, "x", {"fills": 3}, {"venue_order_id": "X-2"}]'), '{"reported": [], "unmatched": []}',
          'events that are not events are dropped, never raised on');
SELECT is(tr_report_stream_fills('ex', '{"not": "a list"}'), '{"reported": [], "unmatched": []}', 'nor is input that is not a list');

SET LOCAL ROLE tr_worker;
SELECT lives_ok($$SELECT tr_report_stream_fills('ex', '[]')$$, 'the worker reports stream fills');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
