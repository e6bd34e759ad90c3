-- Verify trader:execution/venues
BEGIN;
SELECT name, adapter, enabled, params, description, created_at, updated_at FROM tr_venues WHERE false;
SELECT 1 / (count(*) = 2)::int FROM tr_venues WHERE adapter = 'paper';
SELECT tr_setting('worker.default_venue');
ROLLBACK;
