-- Revert trader:tr_strand
BEGIN;
DROP TABLE tr_strand;
COMMIT;
