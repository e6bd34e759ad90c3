-- Verify trader:execution/reports
BEGIN;
SELECT 1 / has_function_privilege('tr_worker', 'tr_report_execution(text, jsonb)', 'execute')::int;
SELECT 1 / has_function_privilege('tr_worker', 'tr_reject_decision(text, text, text)', 'execute')::int;
SELECT 1 / (tr_execution_score(0, 0, 1) = 1)::int;
ROLLBACK;
