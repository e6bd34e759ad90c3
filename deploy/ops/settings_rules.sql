-- Deploy trader:ops/settings_rules
-- A setting is read by workers and jobs long after it was written, so a value that
-- does not parse would fail every one of them in a loop. Each key's rule is a row;
-- a trigger checks every value against it when it is written and refuses a bad one
-- with the form it expects.
BEGIN;

CREATE TABLE tr_setting_rules (
    key      text PRIMARY KEY,
    kind     text NOT NULL CHECK (kind IN ('interval', 'number', 'integer', 'boolean', 'plugins', 'function', 'venue')),
    min      numeric,
    max      numeric,
    min_open boolean NOT NULL DEFAULT false,
    allow_off boolean NOT NULL DEFAULT false,
    CHECK (kind IN ('number', 'integer') OR (min IS NULL AND max IS NULL AND NOT min_open)),
    CHECK (allow_off = false OR kind = 'interval')
);

COMMENT ON TABLE tr_setting_rules IS
    'The type of each setting, checked when a value is written (tr_settings_check), so that a value no reader can parse never reaches the workers and jobs. A new setting needs its rule first.';
COMMENT ON COLUMN tr_setting_rules.kind IS
    'interval (positive), number or integer (within min and max), boolean (true or false), plugins (module:attr, comma-separated, may be empty), function (a function (jsonb) returning text, or empty), venue (a row of tr_venues).';
COMMENT ON COLUMN tr_setting_rules.min_open IS 'The value must be above min rather than at least min (a scale that divides must not be 0).';
COMMENT ON COLUMN tr_setting_rules.allow_off IS 'The word off is accepted besides an interval: the reader treats it as no limit.';

INSERT INTO tr_setting_rules (key, kind, min, max, min_open, allow_off) VALUES
    ('inbox.lease',            'interval', NULL, NULL, false, false),
    ('inbox.submit_lease',     'interval', NULL, NULL, false, false),
    ('inbox.max_attempts',     'integer',  1,    1000, false, false),
    ('quotes.max_clock_skew',  'interval', NULL, NULL, false, false),
    ('monitor.max_age',        'interval', NULL, NULL, false, true),
    ('jobs.history_keep',      'interval', NULL, NULL, false, false),
    ('worker.default_venue',   'venue',    NULL, NULL, false, false),
    ('curation.plugins',       'plugins',  NULL, NULL, false, false),
    ('curation.quality_window','integer',  1,    100000, false, false),
    ('curation.threshold',     'number',   0,    1,    false, false),
    ('curation.timeout_ms',    'integer',  1,    600000, false, false),
    ('weights.learning_rate',  'number',   0,    100,  false, false),
    ('weights.floor',          'number',   0,    1,    false, false),
    ('weights.cap',            'number',   1,    1000000, false, false),
    ('weights.evidence_scale', 'number',   0,    1000000000, true, false),
    ('braids.window',          'interval', NULL, NULL, false, false),
    ('braids.min_size',        'integer',  1,    1000000, false, false),
    ('braids.meta_min_braids', 'integer',  1,    1000000, false, false),
    ('braids.slip_excess_bps', 'number',   0,    10000, false, false),
    ('braids.insight_hook',    'function', NULL, NULL, false, false);

-- The form a rule expects, in words, for the hint of a refused value.
CREATE FUNCTION tr_setting_form(r tr_setting_rules)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE r.kind
        WHEN 'interval' THEN 'a positive interval such as ''30 seconds'' or ''5 minutes'''
                             || CASE WHEN r.allow_off THEN ', or off' ELSE '' END
        WHEN 'number' THEN format('a number %s %s and at most %s (plain digits: no units, no NaN)',
                                  CASE WHEN r.min_open THEN 'above' ELSE 'of at least' END, r.min, r.max)
        WHEN 'integer' THEN format('a whole number from %s to %s', r.min, r.max)
        WHEN 'boolean' THEN 'true or false'
        WHEN 'plugins' THEN 'module:attr[,module:attr]... such as ''my_curators:LateSessionCurator'', or empty for none'
        WHEN 'function' THEN 'the name of a function (jsonb) RETURNS text, such as ''my_insight'', or empty for none'
        WHEN 'venue' THEN 'the name of a venue in tr_venues, such as ''paper_a'''
    END
$$;

COMMENT ON FUNCTION tr_setting_form(tr_setting_rules) IS 'The form a setting''s rule expects, in words: the hint of a refused value.';

-- Text is matched by pattern before any cast, and the casts that remain (interval
-- syntax is too rich for a pattern) run in a block that catches data exceptions, so
-- a bad value is a problem returned, never an error raised.
CREATE FUNCTION tr_setting_problem(r tr_setting_rules, p_value text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_name text := '[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*';
    v_num  numeric;
BEGIN
    IF p_value IS NULL THEN
        RETURN 'no value';
    ELSIF r.allow_off AND p_value = 'off' THEN
        RETURN NULL;
    END IF;
    CASE r.kind
    WHEN 'interval' THEN
        BEGIN
            IF p_value::interval <= interval '0' THEN
                RETURN 'not a positive interval';
            END IF;
        EXCEPTION WHEN data_exception THEN
            RETURN 'not an interval';
        END;
    WHEN 'number', 'integer' THEN
        IF p_value !~ (CASE r.kind WHEN 'integer' THEN '^\s*[+-]?[0-9]{1,12}\s*$'
                                   ELSE '^\s*[+-]?([0-9]{1,30}(\.[0-9]{0,30})?|\.[0-9]{1,30})([eE][+-]?[0-9]{1,3})?\s*$' END) THEN
            RETURN format('not %s', CASE r.kind WHEN 'integer' THEN 'a whole number' ELSE 'a number' END);
        END IF;
        v_num := p_value::numeric;
        IF v_num < r.min OR (r.min_open AND v_num = r.min) OR v_num > r.max THEN
            RETURN 'out of range';
        END IF;
    WHEN 'boolean' THEN
        IF p_value NOT IN ('true', 'false') THEN
            RETURN 'not true or false';
        END IF;
    WHEN 'plugins' THEN
        IF p_value !~ format('^\s*(%1$s:%1$s(\s*,\s*%1$s:%1$s)*)?\s*$', v_name) THEN
            RETURN 'not a list of module:attr';
        END IF;
    WHEN 'function' THEN
        IF p_value <> '' AND (p_value !~ '^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$' OR length(p_value) > 128
                              OR to_regprocedure(p_value || '(jsonb)') IS NULL) THEN
            RETURN 'not the name of a function (jsonb)';
        END IF;
    WHEN 'venue' THEN
        IF NOT EXISTS (SELECT FROM tr_venues v WHERE v.name = p_value) THEN
            RETURN 'not a venue of tr_venues';
        END IF;
    END CASE;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION tr_setting_problem(tr_setting_rules, text) IS
    'Why a value does not fit a setting''s rule (NULL when it does). Never raises: patterns first, and the interval cast catches data exceptions.';

CREATE FUNCTION tr_settings_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    r         tr_setting_rules;
    v_problem text;
BEGIN
    SELECT * INTO r FROM tr_setting_rules WHERE key = NEW.key;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('setting %L has no rule', left(NEW.key, 128)),
            HINT = 'Insert its type into tr_setting_rules (key, kind, min, max, min_open, allow_off) before the setting.';
    END IF;
    v_problem := tr_setting_problem(r, NEW.value);
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = format('setting %s refused: %s is %s', NEW.key, coalesce(quote_literal(left(NEW.value, 128)), 'NULL'), v_problem),
            HINT = format('%s takes %s.', NEW.key, tr_setting_form(r));
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION tr_settings_check() IS
    'Trigger: refuses (22023, with the expected form as hint) a setting value its rule does not accept, and a setting without a rule.';

CREATE TRIGGER tr_settings_check BEFORE INSERT OR UPDATE ON tr_settings
    FOR EACH ROW EXECUTE FUNCTION tr_settings_check();

REVOKE EXECUTE ON FUNCTION tr_setting_form(tr_setting_rules), tr_setting_problem(tr_setting_rules, text),
                           tr_settings_check() FROM PUBLIC;
GRANT SELECT ON tr_setting_rules TO tr_worker, tr_inspector;

COMMIT;
