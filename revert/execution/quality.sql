-- Revert trader:execution/quality
BEGIN;
DROP TABLE tr_execution_performance;
COMMIT;
