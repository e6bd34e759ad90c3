-- Settings are checked when written: every setting has a rule its current value
-- passes, and for each kind of rule a value that does not parse is refused with
-- 22023 and a hint naming the form, never with a cast error.
BEGIN;
SELECT plan(24);

SELECT is_empty($$SELECT s.key FROM tr_settings s LEFT JOIN tr_setting_rules r ON r.key = s.key WHERE r.key IS NULL$$,
                'every setting has a rule in tr_setting_rules');
SELECT is_empty($$SELECT s.key, s.value, tr_setting_problem(r, s.value) FROM tr_settings s JOIN tr_setting_rules r ON r.key = s.key
                   WHERE tr_setting_problem(r, s.value) IS NOT NULL$$,
                'every current value passes its rule');
SELECT is_empty($$SELECT r.key FROM tr_setting_rules r LEFT JOIN tr_settings s ON s.key = r.key WHERE s.key IS NULL$$,
                'no rule is left over for a setting that does not exist');

-- interval
SELECT throws_ok($$UPDATE tr_settings SET value = 'ten seconds' WHERE key = 'inbox.lease'$$, '22023',
                 'setting inbox.lease refused: ''ten seconds'' is not an interval',
                 'an interval setting refuses text that is not an interval, naming the value');
SELECT is((SELECT tr_setting_form(r) FROM tr_setting_rules r WHERE key = 'inbox.lease'),
          'a positive interval such as ''30 seconds'' or ''5 minutes''', 'the hint of an interval setting names the form');
SELECT throws_ok($$UPDATE tr_settings SET value = '-5 seconds' WHERE key = 'inbox.lease'$$, '22023', NULL,
                 'an interval setting refuses a negative interval');
SELECT throws_ok($$UPDATE tr_settings SET value = '99999999999 years' WHERE key = 'inbox.lease'$$, '22023', NULL,
                 'an interval too large to represent is refused as 22023, not a datetime overflow');
SELECT throws_ok($$UPDATE tr_settings SET value = 'off' WHERE key = 'inbox.lease'$$, '22023', NULL,
                 'off is refused where the setting does not allow it');
SELECT lives_ok($$UPDATE tr_settings SET value = 'off' WHERE key = 'monitor.max_age';
                  UPDATE tr_settings SET value = '12 hours' WHERE key = 'monitor.max_age'$$,
                'monitor.max_age takes off or an interval');
SELECT lives_ok($$UPDATE tr_settings SET value = '00:00:30' WHERE key = 'inbox.lease'$$,
                'any interval syntax PostgreSQL reads is accepted');

-- number
SELECT throws_ok($$UPDATE tr_settings SET value = '0.3x' WHERE key = 'curation.threshold'$$, '22023',
                 'setting curation.threshold refused: ''0.3x'' is not a number',
                 'a number setting refuses a number with trailing text');
SELECT throws_ok($$UPDATE tr_settings SET value = '1.5' WHERE key = 'curation.threshold'$$, '22023',
                 'setting curation.threshold refused: ''1.5'' is out of range', 'a number setting refuses a number out of its range');
SELECT throws_ok($$UPDATE tr_settings SET value = 'NaN' WHERE key = 'curation.threshold'$$, '22023', NULL,
                 'a number setting refuses NaN');
SELECT throws_ok($$UPDATE tr_settings SET value = '0' WHERE key = 'weights.evidence_scale'$$, '22023', NULL,
                 'a scale that divides refuses 0 (its range is open below)');
SELECT lives_ok($$UPDATE tr_settings SET value = '2.5e-1' WHERE key = 'curation.threshold'$$,
                'a number in exponent notation within range is accepted');

-- integer
SELECT throws_ok($$UPDATE tr_settings SET value = '2.5' WHERE key = 'inbox.max_attempts'$$, '22023',
                 'setting inbox.max_attempts refused: ''2.5'' is not a whole number', 'an integer setting refuses a fraction');
SELECT throws_ok($$UPDATE tr_settings SET value = '99999999999' WHERE key = 'inbox.max_attempts'$$, '22023', NULL,
                 'an integer setting refuses a value beyond its range rather than overflowing');

-- boolean (no setting is one yet: a rule and a setting made here)
INSERT INTO tr_setting_rules (key, kind) VALUES ('test.flag', 'boolean');
INSERT INTO tr_settings (key, value, description) VALUES ('test.flag', 'true', 'a test flag');
SELECT throws_ok($$UPDATE tr_settings SET value = 'maybe' WHERE key = 'test.flag'$$, '22023',
                 'setting test.flag refused: ''maybe'' is not true or false', 'a boolean setting refuses anything but true or false');

-- plug-ins
SELECT throws_ok($$UPDATE tr_settings SET value = 'my_curators' WHERE key = 'curation.plugins'$$, '22023',
                 'setting curation.plugins refused: ''my_curators'' is not a list of module:attr',
                 'a plug-in list refuses a module without its attribute');
SELECT lives_ok($$UPDATE tr_settings SET value = 'pkg.mod:Curator, other:make' WHERE key = 'curation.plugins';
                  UPDATE tr_settings SET value = '' WHERE key = 'curation.plugins'$$,
                'a plug-in list takes module:attr separated by commas, or nothing');

-- function and venue
SELECT throws_ok($$UPDATE tr_settings SET value = 'no_such_hook' WHERE key = 'braids.insight_hook'$$, '22023', NULL,
                 'the insight hook refuses a function that does not exist');
SELECT throws_ok($$UPDATE tr_settings SET value = 'paper_z' WHERE key = 'worker.default_venue'$$, '22023', NULL,
                 'the default venue must be a venue of tr_venues');

-- a setting without a rule
SELECT throws_ok($$INSERT INTO tr_settings (key, value, description) VALUES ('test.unruled', '1', 'no rule')$$, '22023',
                 'setting ''test.unruled'' has no rule', 'a setting without a rule is refused');

-- the hint, as a client sees it
CREATE FUNCTION pg_temp.hint_of(p_sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE v_hint text;
BEGIN
    EXECUTE p_sql;
    RETURN NULL;
EXCEPTION WHEN invalid_parameter_value THEN
    GET STACKED DIAGNOSTICS v_hint = PG_EXCEPTION_HINT;
    RETURN v_hint;
END $$;
SELECT is(pg_temp.hint_of($$UPDATE tr_settings SET value = 'soon' WHERE key = 'monitor.max_age'$$),
          'monitor.max_age takes a positive interval such as ''30 seconds'' or ''5 minutes'', or off.',
          'the hint names the setting and the form it takes');

SELECT * FROM finish();
ROLLBACK;
