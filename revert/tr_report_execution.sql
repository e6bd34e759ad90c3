-- Revert trader:tr_report_execution
BEGIN;
DROP FUNCTION tr_reject_decision(text, text, text);
DROP FUNCTION tr_report_execution(text, jsonb);
DROP FUNCTION tr_json_timestamp(jsonb);
DROP FUNCTION tr_execution_score(numeric, numeric, numeric);
DROP INDEX tr_execution_performance_execution;
DROP INDEX tr_strand_one_execution_per_order;
COMMIT;
