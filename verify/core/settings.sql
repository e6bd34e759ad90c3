-- Verify trader:core/settings
BEGIN;
SELECT key, value, description, updated_at FROM tr_settings WHERE false;
SELECT tr_setting('inbox.lease')::interval;
ROLLBACK;
