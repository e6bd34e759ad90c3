-- Revert trader:core/peer_strands
-- Drops only the peer tables this module created (their COMMENT says so); a peer's
-- own table and its rows are never touched.
BEGIN;

DO $$
DECLARE
    v_table text;
BEGIN
    FOREACH v_table IN ARRAY ARRAY['public.dm_strand', 'public.rm_strand', 'public.md_strand'] LOOP
        IF to_regclass(v_table) IS NOT NULL
           AND obj_description(to_regclass(v_table), 'pg_class') LIKE 'Created by the Trader module (peer_strands)%' THEN
            EXECUTE format('DROP TABLE %s', v_table);
        END IF;
    END LOOP;
END
$$;

COMMIT;
