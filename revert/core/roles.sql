-- Revert trader:core/roles
-- A role may still hold privileges in another database of the cluster (another
-- deployment of the module); it is then left in place rather than failing the revert.
BEGIN;

DO $$
DECLARE
    v_role text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['dm_module', 'rm_module', 'md_module', 'tr_worker', 'tr_inspector'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = v_role);
        EXECUTE format('DROP OWNED BY %I', v_role);
        BEGIN
            EXECUTE format('DROP ROLE %I', v_role);
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'role % kept: it still holds privileges in another database', v_role;
        END;
    END LOOP;
END
$$;

COMMIT;
