-- Revert trader:ops/settings_rules
BEGIN;

DROP TRIGGER tr_settings_check ON tr_settings;
DROP FUNCTION tr_settings_check();
DROP FUNCTION tr_setting_problem(tr_setting_rules, text);
DROP FUNCTION tr_setting_form(tr_setting_rules);
DROP TABLE tr_setting_rules;

COMMIT;
