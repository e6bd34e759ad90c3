-- Deploy trader:execution/in_flight to pg
-- An order whose request left but whose answer never came (a timeout, a dropped
-- connection, a rate-limit answer) may or may not be at the exchange, and an exchange
-- can take a while to list an order it has just accepted. Such an order is in flight:
-- it is never sent again; the worker looks it up by client order id at every
-- follow-up until the exchange shows it (its report then resolves it) or until
-- venue.in_flight_timeout has passed, when it is failed with what the lookups said.
BEGIN;

INSERT INTO tr_setting_rules (key, kind) VALUES ('venue.in_flight_timeout', 'interval');
INSERT INTO tr_settings (key, value, description) VALUES
    ('venue.in_flight_timeout', '2 minutes',
     'How long an order sent without an answer is looked for at its venue by client order id before it is failed: VENUE_ERROR when the venue kept saying it has no such order, UNKNOWN_AT_VENUE when it could not be asked.');

ALTER TABLE tr_inbox ADD COLUMN in_flight_since timestamptz;
COMMENT ON COLUMN tr_inbox.in_flight_since IS
    'When the order was sent without an answer: while its status is received, it is in flight and looked up at every follow-up; kept afterwards as a record.';

CREATE INDEX tr_inbox_in_flight ON tr_inbox (in_flight_since) WHERE state = 'working' AND status = 'received';
COMMENT ON INDEX tr_inbox_in_flight IS 'The orders in flight, looked at by every follow-up.';

-- Hands orders the worker sent without an answer from its claim to the follow-ups.
CREATE FUNCTION tr_mark_in_flight(p_worker text, p_orders jsonb, p_now timestamptz DEFAULT clock_timestamp())
RETURNS SETOF text
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
    UPDATE tr_inbox i
       SET state = 'working', in_flight_since = coalesce(i.in_flight_since, p_now),
           last_error = left(x.error, 2000), lease_owner = NULL, lease_expires_at = NULL, updated_at = p_now
      FROM jsonb_to_recordset(CASE WHEN jsonb_typeof(p_orders) = 'array' THEN p_orders ELSE '[]' END) AS x(order_id text, error text)
     WHERE i.id = x.order_id AND i.state = 'claimed' AND i.lease_owner = p_worker
       AND i.submit_intent_at IS NOT NULL AND i.status = 'received'
    RETURNING i.id
$$;

COMMENT ON FUNCTION tr_mark_in_flight(text, jsonb, timestamptz) IS
    'Orders [{order_id, error}] the worker sent without an answer: working, in flight since now, looked up by the follow-ups; returns the ids marked (those the worker still held).';

-- What a lookup of an in-flight order said, and the failure of those past the timeout.
CREATE FUNCTION tr_in_flight_checked(p_checks jsonb, p_now timestamptz DEFAULT clock_timestamp())
RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_timeout interval := tr_setting('venue.in_flight_timeout')::interval;
    v_failed  jsonb;
BEGIN
    WITH checked AS (
        UPDATE tr_inbox i
           SET last_error = left(coalesce(x.error, 'the venue has no order with this client order id yet'), 2000), updated_at = p_now
          FROM jsonb_to_recordset(CASE WHEN jsonb_typeof(p_checks) = 'array' THEN p_checks ELSE '[]' END) AS x(order_id text, error text)
         WHERE i.id = x.order_id AND i.state = 'working' AND i.status = 'received' AND i.in_flight_since IS NOT NULL
        RETURNING i.id, i.venue, i.in_flight_since, x.error
    )
    SELECT jsonb_agg(jsonb_build_object('order_id', c.id, 'report', jsonb_build_object(
               'status', 'failed', 'venue', c.venue,
               'reason', CASE WHEN c.error IS NULL THEN 'VENUE_ERROR' ELSE 'UNKNOWN_AT_VENUE' END,
               'detail', CASE WHEN c.error IS NULL
                              THEN format('sent at %s without an answer; the venue had no order with this client order id for %s, so it was not placed; not resent',
                                          c.in_flight_since, v_timeout)
                              ELSE format('sent at %s without an answer and not found for %s: the last lookup failed (%s); not resent: check it at the venue',
                                          c.in_flight_since, v_timeout, left(c.error, 300)) END)))
      INTO v_failed
      FROM checked c
     WHERE c.in_flight_since + v_timeout <= p_now;
    IF v_failed IS NOT NULL THEN
        PERFORM tr_report_executions(v_failed);
        RETURN QUERY SELECT x->>'order_id' FROM jsonb_array_elements(v_failed) x;
    END IF;
END
$$;

COMMENT ON FUNCTION tr_in_flight_checked(jsonb, timestamptz) IS
    'Lookups of in-flight orders that did not find them, [{order_id, error}] (error NULL: the venue answered that it has no such order): recorded as the order''s last error; those in flight for venue.in_flight_timeout are failed (VENUE_ERROR when the venue answered, UNKNOWN_AT_VENUE when it could not be asked) and returned.';

REVOKE EXECUTE ON FUNCTION tr_mark_in_flight(text, jsonb, timestamptz), tr_in_flight_checked(jsonb, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_mark_in_flight(text, jsonb, timestamptz), tr_in_flight_checked(jsonb, timestamptz) TO tr_worker;

COMMIT;
