-- Revert trader:tr_submission
BEGIN;
DROP INDEX tr_inbox_working;
DROP FUNCTION tr_working_orders(text[]);
DROP FUNCTION tr_report_executions(jsonb);
DROP FUNCTION tr_record_intents(text, jsonb);
ALTER TABLE tr_inbox DROP COLUMN curation, DROP COLUMN submit_intent_at;
DELETE FROM tr_settings WHERE key = 'inbox.submit_lease';
COMMIT;
