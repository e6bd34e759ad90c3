-- Deploy trader:tr_submission
-- What the worker commits around a venue call, so that a decision is executed at most
-- once and reported exactly once whatever is killed when: the intent (venue, curated
-- order) is committed before the order is sent; a work item claimed again with an
-- intent is reconciled with its venue by client order id before anything is sent.
BEGIN;

ALTER TABLE tr_inbox
    ADD COLUMN submit_intent_at timestamptz,
    ADD COLUMN curation         jsonb;

COMMENT ON COLUMN tr_inbox.submit_intent_at IS
    'When the worker committed its intent to send; set means the order may be at the venue, so a new claim reconciles before sending.';
COMMENT ON COLUMN tr_inbox.curation IS 'The curation outcome the order was sent with: order_qty, tr_predict, lesson_metadata.';

INSERT INTO tr_settings (key, value, description) VALUES
    ('inbox.submit_lease', '60 seconds', 'How long a worker holds orders whose intent it has committed: the time it has to send them. Nobody else reconciles them before it ends.');

-- Records the intents of a batch; only items the worker still holds are recorded,
-- and only those may be sent. The lease is extended to inbox.submit_lease, so that no
-- other worker reconciles (and perhaps sends) an order while this one is sending it.
CREATE FUNCTION tr_record_intents(p_worker text, p_intents jsonb)
RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := clock_timestamp();
BEGIN
    RETURN QUERY
        UPDATE tr_inbox i
           SET venue = x.venue,
               submit_intent_at = v_now,
               curation = x.curation,
               lease_expires_at = greatest(i.lease_expires_at, v_now + tr_setting('inbox.submit_lease')::interval),
               updated_at = v_now
          FROM jsonb_to_recordset(p_intents) AS x(order_id text, venue text, curation jsonb)
         WHERE i.id = x.order_id AND i.state = 'claimed' AND i.lease_owner = p_worker
           AND i.lease_expires_at > v_now
        RETURNING i.id;
END
$$;

COMMENT ON FUNCTION tr_record_intents(text, jsonb) IS
    'Commits the intent to send for [{order_id, venue, curation}] and extends their lease to inbox.submit_lease: returns the ids recorded (those the worker still holds under its lease); only they may be sent, and only before that lease ends.';

-- Reports of a batch in one transaction, in a fixed order (symbol, then order) so
-- that concurrent batches take position locks in the same order and never deadlock.
CREATE FUNCTION tr_report_executions(p_reports jsonb)
RETURNS TABLE (order_id text, execution_id text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT x.order_id AS id, x.report
          FROM jsonb_to_recordset(p_reports) AS x(order_id text, report jsonb)
          LEFT JOIN tr_inbox i ON i.id = x.order_id
         ORDER BY i.symbol NULLS FIRST, x.order_id
    LOOP
        order_id := r.id;
        execution_id := tr_report_execution(r.id, r.report);
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION tr_report_executions(jsonb) IS
    'tr_report_execution for each {order_id, report} of a batch, in symbol order, in the caller''s one transaction.';

-- Orders resting at a venue, with what the Trader last recorded of them, so the
-- worker can follow them and report only what changed.
CREATE FUNCTION tr_working_orders(p_venues text[] DEFAULT NULL)
RETURNS TABLE (order_id text, venue text, symbol text, status text, filled_qty numeric, fill_count integer, curation jsonb,
               venue_order_id text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT i.id, i.venue, i.symbol, s.exec_metrics->>'status', (s.exec_metrics->>'filled_qty')::numeric,
               jsonb_array_length(coalesce(s.fills, '[]')), i.curation, s.exec_metrics->>'venue_order_id'
          FROM tr_inbox i
          LEFT JOIN tr_strand s ON s.kind = 'execution' AND s.decision_id = i.id
         WHERE i.state = 'working' AND (p_venues IS NULL OR i.venue = ANY (p_venues))
         ORDER BY i.created_at;
END
$$;

COMMENT ON FUNCTION tr_working_orders(text[]) IS 'Orders working at the given venues (all when NULL), with their last reported status and fills.';

CREATE INDEX tr_inbox_working ON tr_inbox (created_at) WHERE state = 'working';
COMMENT ON INDEX tr_inbox_working IS 'Orders resting at venues, followed by the worker every poll.';

REVOKE EXECUTE ON FUNCTION tr_record_intents(text, jsonb), tr_report_executions(jsonb), tr_working_orders(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_record_intents(text, jsonb), tr_report_executions(jsonb), tr_working_orders(text[]) TO tr_worker;

COMMIT;
