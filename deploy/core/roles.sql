-- Deploy trader:core/roles
-- Roles are cluster-wide: another database of the cluster may already have made
-- them, so each is created only when absent.
BEGIN;

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT * FROM (VALUES
            ('dm_module',    false, 'Decision Maker: writes decisions to dm_strand, reads execution reports in tr_strand.'),
            ('rm_module',    false, 'Risk Manager: writes risk updates to rm_strand, reads tr_strand.'),
            ('md_module',    false, 'Market Data: writes quotes to md_strand, reads tr_strand.'),
            ('tr_worker',    true,  'Trader worker sidecar: executes the Trader''s functions, reads its tables, alters nothing directly.'),
            ('tr_inspector', false, 'Read-only inspection of every Trader and peer strand table.')
        ) AS t(name, can_login, note)
    LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r.name) THEN
            EXECUTE format('CREATE ROLE %I %s', r.name, CASE WHEN r.can_login THEN 'LOGIN' ELSE 'NOLOGIN' END);
        END IF;
        EXECUTE format('COMMENT ON ROLE %I IS %L', r.name, r.note);
    END LOOP;
END
$$;

COMMIT;
