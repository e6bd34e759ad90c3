-- Revert trader:tr_inbox
BEGIN;
DROP FUNCTION tr_claim_orders(text, integer, interval, timestamptz, text[]);
DROP TRIGGER tr_enqueue_decision ON dm_strand;
DROP FUNCTION tr_enqueue_decision();
DROP TABLE tr_inbox;
COMMIT;
