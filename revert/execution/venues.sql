-- Revert trader:execution/venues
BEGIN;
DELETE FROM tr_settings WHERE key = 'worker.default_venue';
DROP TABLE tr_venues;
COMMIT;
