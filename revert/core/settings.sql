-- Revert trader:core/settings
BEGIN;
DROP FUNCTION tr_setting(text);
DROP TABLE tr_settings;
COMMIT;
