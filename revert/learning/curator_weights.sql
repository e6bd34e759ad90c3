-- Revert trader:learning/curator_weights
BEGIN;
DROP TABLE tr_curator_weights;
COMMIT;
