-- Verify trader:core/privileges
BEGIN;
SELECT 1 / has_table_privilege('dm_module', 'dm_strand', 'insert')::int;
SELECT 1 / (NOT has_table_privilege('dm_module', 'tr_strand', 'insert'))::int;
SELECT 1 / has_function_privilege('tr_worker', 'tr_claim_orders(text, integer, interval, timestamptz, text[])', 'execute')::int;
SELECT 1 / (NOT has_table_privilege('tr_worker', 'tr_inbox', 'update'))::int;
SELECT 1 / (NOT has_table_privilege('tr_inspector', 'tr_strand', 'insert'))::int;
ROLLBACK;
