-- Revert trader:execution/claim_batch
BEGIN;
DROP FUNCTION tr_claim_batch(text, integer, text[]);
COMMIT;
