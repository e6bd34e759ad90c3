-- Revert trader:tr_curator_performance
BEGIN;
DROP TABLE tr_curator_performance;
COMMIT;
