-- Verify trader:intake/quotes
BEGIN;
SELECT symbol, bid, ask, last, mark, quote_ts, strand_id, updated_at FROM tr_quotes WHERE false;
SELECT 1 / ((tr_parse_quote('X', '{"bid": 2, "ask": 1}', now())).reason = 'CROSSED_QUOTE')::int;
SELECT 1 / (tr_touch_price(ROW('X', 1, 2, NULL, 1.5, now(), 's', now())::tr_quotes, 'buy') = 2)::int;
SELECT 1 / count(*) FROM pg_catalog.pg_trigger WHERE tgname = 'tr_apply_market_update';
ROLLBACK;
