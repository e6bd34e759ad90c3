-- Revert trader:execution/submission
BEGIN;
DROP FUNCTION tr_working_orders(text[]);
DROP FUNCTION tr_record_intents(text, jsonb);
DELETE FROM tr_settings WHERE key = 'inbox.submit_lease';
COMMIT;
