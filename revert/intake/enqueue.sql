-- Revert trader:intake/enqueue
BEGIN;
DROP VIEW tr_dead_letters;
DROP FUNCTION tr_fail_exhausted_orders(integer, timestamptz);
DROP FUNCTION tr_exhaustion_report(tr_inbox);
DROP TRIGGER tr_enqueue_decision ON dm_strand;
DROP FUNCTION tr_enqueue_decision();
COMMIT;
