-- Verify trader:core/input_checks
BEGIN;
SELECT 1 / (tr_json_numeric('"1.5"') = 1.5)::int;
SELECT 1 / (tr_json_numeric('"NaN"') IS NULL)::int;
SELECT 1 / (tr_decimal_places(1.50000000000) = 1)::int;
SELECT id, source_table, strand_id, symbol, reason, detail, payload, created_at FROM tr_unapplied_input WHERE false;
ROLLBACK;
