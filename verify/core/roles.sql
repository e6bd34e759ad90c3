-- Verify trader:core/roles
BEGIN;
SELECT 1 / count(*) FROM pg_catalog.pg_roles WHERE rolname = 'dm_module';
SELECT 1 / count(*) FROM pg_catalog.pg_roles WHERE rolname = 'rm_module';
SELECT 1 / count(*) FROM pg_catalog.pg_roles WHERE rolname = 'md_module';
SELECT 1 / count(*) FROM pg_catalog.pg_roles WHERE rolname = 'tr_worker' AND rolcanlogin;
SELECT 1 / count(*) FROM pg_catalog.pg_roles WHERE rolname = 'tr_inspector';
ROLLBACK;
