-- Revert trader:learning/curator_performance
BEGIN;
DROP TABLE tr_curator_performance;
COMMIT;
