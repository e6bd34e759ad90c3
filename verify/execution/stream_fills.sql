-- Verify trader:execution/stream_fills on pg
-- A stream fill for a working order, named by the exchange's order id, is reported;
-- the same fill again adds nothing; one for an order the venue never answered is held.
BEGIN;

DO $$
DECLARE
    v_result jsonb;
BEGIN
    INSERT INTO tr_inbox (id, source, source_id, symbol, side, qty, order_type, venue, venue_order_id, order_qty, status, state)
    VALUES ('verify-stream', 'decision', 'verify-stream', 'VERIFY-USD', 'buy', 2, 'limit', 'paper', 'X-1', 2, 'working', 'working');
    v_result := tr_report_stream_fills('paper', '[{"venue_order_id": "X-1", "fills": [{"fill_id": "t1", "px": "10", "qty": "2", "fee": "0", "ts": "2026-01-01T00:00:00Z"}]},
                                                  {"venue_order_id": "X-2", "fills": []}]');
    IF v_result <> '{"reported": ["verify-stream"], "unmatched": [1]}'
       OR (SELECT status::text || filled_qty FROM tr_inbox WHERE id = 'verify-stream') <> 'filled2' THEN
        RAISE EXCEPTION 'a stream fill was not reported on its order: %', v_result;
    END IF;
END
$$;

ROLLBACK;
