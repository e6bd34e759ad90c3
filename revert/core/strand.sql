-- Revert trader:core/strand
BEGIN;
DROP TABLE tr_strand;
COMMIT;
