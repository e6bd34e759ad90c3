-- Revert trader:execution/in_flight from pg
-- Orders still in flight go back to their claim's lease: reclaimed, they are looked up
-- by client order id before anything is sent, as before this change.
BEGIN;

UPDATE tr_inbox SET state = 'pending', updated_at = clock_timestamp() WHERE state = 'working' AND status = 'received';
DROP FUNCTION tr_in_flight_checked(jsonb, timestamptz);
DROP FUNCTION tr_mark_in_flight(text, jsonb, timestamptz);
ALTER TABLE tr_inbox DROP COLUMN in_flight_since;
DELETE FROM tr_settings WHERE key = 'venue.in_flight_timeout';
DELETE FROM tr_setting_rules WHERE key = 'venue.in_flight_timeout';

COMMIT;
