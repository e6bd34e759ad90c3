-- Catalog style: every table of the module documents itself and has a primary key;
-- every function of the module has a comment, and every SECURITY DEFINER one pins its
-- search_path and is not executable by PUBLIC.
BEGIN;
SELECT plan(5);

CREATE TEMP VIEW module_tables AS
SELECT c.oid, c.relname
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'r'
   AND (c.relname LIKE 'tr\_%' OR c.relname IN ('dm_strand', 'rm_strand', 'md_strand'));

CREATE TEMP VIEW module_functions AS
SELECT p.oid, p.oid::regprocedure::text AS signature, p.prosecdef, p.proconfig
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND p.proname LIKE 'tr\_%';

SELECT cmp_ok((SELECT count(*) FROM module_tables), '>=', 11::bigint, 'the module''s tables are found');
SELECT is_empty($$SELECT relname FROM module_tables WHERE obj_description(oid, 'pg_class') IS NULL$$,
                'every table has a comment');
SELECT is_empty($$SELECT relname FROM module_tables t
                   WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conrelid = t.oid AND k.contype = 'p')$$,
                'every table has a primary key');
SELECT is_empty($$SELECT signature FROM module_functions WHERE obj_description(oid, 'pg_proc') IS NULL$$,
                'every function has a comment');
SELECT is_empty($$SELECT signature FROM module_functions
                   WHERE prosecdef
                     AND (NOT coalesce('search_path=pg_catalog, public, pg_temp' = ANY (proconfig), false)
                          OR has_function_privilege('public', oid, 'execute'))$$,
                'every SECURITY DEFINER function pins search_path and is not executable by PUBLIC');

SELECT * FROM finish();
ROLLBACK;
