-- Verify trader:execution/in_flight on pg
-- An order sent without an answer is marked in flight, a lookup that does not find it
-- is recorded, and past the timeout it is failed with what the lookups said.
BEGIN;

DO $$
DECLARE
    v_failed text[];
BEGIN
    INSERT INTO tr_inbox (id, source, source_id, symbol, side, qty, order_type, state, lease_owner, lease_expires_at, submit_intent_at, venue)
    VALUES ('verify-in-flight', 'decision', 'verify-in-flight', 'VERIFY-USD', 'buy', 1, 'market', 'claimed', 'verify',
            now() + interval '1 minute', now(), 'paper');
    IF NOT EXISTS (SELECT FROM tr_mark_in_flight('verify', '[{"order_id": "verify-in-flight", "error": "timeout"}]', now())) THEN
        RAISE EXCEPTION 'an order sent without an answer was not marked in flight';
    END IF;
    SELECT array_agg(x) INTO v_failed FROM tr_in_flight_checked('[{"order_id": "verify-in-flight"}]', now()) x;
    IF v_failed IS NOT NULL THEN
        RAISE EXCEPTION 'an order in flight was failed before its timeout';
    END IF;
    SELECT array_agg(x) INTO v_failed FROM tr_in_flight_checked('[{"order_id": "verify-in-flight"}]', now() + interval '1 day') x;
    IF v_failed IS DISTINCT FROM ARRAY['verify-in-flight']
       OR (SELECT status::text || reason FROM tr_inbox WHERE id = 'verify-in-flight') <> 'failedVENUE_ERROR' THEN
        RAISE EXCEPTION 'an order in flight past its timeout, never found, was not failed VENUE_ERROR';
    END IF;
END
$$;

ROLLBACK;
