-- Revert trader:intake/quotes
BEGIN;
DROP TRIGGER tr_apply_market_update ON md_strand;
DROP FUNCTION tr_apply_market_update();
DROP FUNCTION tr_parse_quote(text, jsonb, timestamptz);
DROP FUNCTION tr_mark_position(text, numeric);
DROP FUNCTION tr_mark_fits(text, numeric);
DROP FUNCTION tr_remark(text, numeric, timestamptz);
DROP FUNCTION tr_assert_price(text, numeric);
DROP FUNCTION tr_touch_price(tr_quotes, text);
DROP TABLE tr_quotes;
DELETE FROM tr_settings WHERE key = 'quotes.max_clock_skew';
COMMIT;
