-- Deploy trader:core/settings
BEGIN;

CREATE TABLE tr_settings (
    key         text PRIMARY KEY,
    value       text NOT NULL,
    description text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE tr_settings IS
    'Tunable settings of the Trader, one row each, changed with UPDATE (no redeploy). Values are text, cast by tr_setting callers.';

INSERT INTO tr_settings (key, value, description) VALUES
    ('inbox.lease', '10 seconds', 'How long a claimed work item stays with its worker before another may take it back (an interval).');

-- Raises rather than returning NULL: a typo in a key must not silently disable a limit.
CREATE FUNCTION tr_setting(p_key text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_value text;
BEGIN
    SELECT value INTO v_value FROM tr_settings WHERE key = p_key;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('unknown Trader setting %L', p_key),
            HINT = 'SELECT key FROM tr_settings lists the settings.';
    END IF;
    RETURN v_value;
END
$$;

COMMENT ON FUNCTION tr_setting(text) IS 'The value of a Trader setting; raises 22023 for an unknown key.';

COMMIT;
