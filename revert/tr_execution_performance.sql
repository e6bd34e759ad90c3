-- Revert trader:tr_execution_performance
BEGIN;
DROP TABLE tr_execution_performance;
COMMIT;
