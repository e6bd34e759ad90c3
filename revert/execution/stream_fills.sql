-- Revert trader:execution/stream_fills from pg
BEGIN;

DROP FUNCTION tr_report_stream_fills(text, jsonb);
DROP FUNCTION tr_stream_order(text, text, text);
DROP INDEX tr_inbox_working_venue_order;

COMMIT;
