-- Catalog style: every table of the module documents itself and has a primary key;
-- every function of the module has a comment, and every SECURITY DEFINER one pins its
-- search_path and is not executable by PUBLIC; functions stay short, a function named
-- tr_check_* returns a reason (never raises), and every status has its meaning.
BEGIN;
SELECT plan(10);

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

SELECT is_empty($$SELECT signature, array_length(regexp_split_to_array(p.prosrc, E'\n'), 1)
                    FROM module_functions f JOIN pg_catalog.pg_proc p ON p.oid = f.oid
                   WHERE array_length(regexp_split_to_array(p.prosrc, E'\n'), 1) > 85$$,
                'no function of the module is much over 80 lines');
SELECT is_empty($$SELECT signature FROM module_functions f JOIN pg_catalog.pg_proc p ON p.oid = f.oid
                   WHERE p.proname LIKE 'tr\_check\_%' AND NOT 'reason' = ANY (coalesce(p.proargnames, '{}'))$$,
                'a tr_check_* function returns a reason; functions that raise are named tr_assert_*');
SELECT is_empty($$SELECT e FROM unnest(enum_range(NULL::tr_order_status)) e
                   WHERE NOT EXISTS (SELECT FROM tr_statuses s WHERE s.status = e)$$,
                'every order status has its meaning and finality in tr_statuses');
SELECT fk_ok('tr_inbox', 'reason', 'tr_reason_codes', 'code', 'an order''s reason is a code of tr_reason_codes');
SELECT fk_ok('tr_unapplied_input', 'reason', 'tr_reason_codes', 'code', 'an unapplied input''s reason is a code of tr_reason_codes');

SELECT * FROM finish();
ROLLBACK;
