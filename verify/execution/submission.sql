-- Verify trader:execution/submission
BEGIN;
SELECT 1 / has_function_privilege('tr_worker', 'tr_record_intents(text, jsonb)', 'execute')::int;
SELECT 1 / has_function_privilege('tr_worker', 'tr_report_executions(jsonb)', 'execute')::int;
ROLLBACK;
