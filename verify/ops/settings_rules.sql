-- Verify trader:ops/settings_rules
-- Every setting has a rule its value passes, and a value that does not parse is refused.
BEGIN;
SELECT 1 / (count(*) = 0)::integer FROM tr_settings s
  LEFT JOIN tr_setting_rules r ON r.key = s.key
 WHERE r.key IS NULL OR tr_setting_problem(r, s.value) IS NOT NULL;
DO $$
BEGIN
    UPDATE tr_settings SET value = 'ten seconds' WHERE key = 'inbox.lease';
    RAISE EXCEPTION 'a setting that does not parse was accepted';
EXCEPTION WHEN invalid_parameter_value THEN
    NULL;
END
$$;
ROLLBACK;
