-- Revert trader:intake/inbox
BEGIN;
DROP FUNCTION tr_release_orders(text, text[], text);
DROP FUNCTION tr_claim_orders(text, integer, interval, timestamptz, text[]);
DROP TABLE tr_inbox;
DROP FUNCTION tr_type_order();
DROP FUNCTION tr_parse_order(text, jsonb);
DROP FUNCTION tr_parse_quantity(jsonb, text);
DROP FUNCTION tr_oversized_text(text, text, text, text, text, text, text, text, text[]);
DROP FUNCTION tr_bounded(text, integer);
DELETE FROM tr_settings WHERE key = 'inbox.max_attempts';
COMMIT;
