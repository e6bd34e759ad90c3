-- Deploy trader:execution/submission
-- What the worker commits around a venue call, so that a decision is executed at most
-- once and reported exactly once whatever is killed when: the intent (venue, curated
-- order) is committed before the order is sent; a work item claimed again with an
-- intent is reconciled with its venue by client order id before anything is sent.
BEGIN;

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
    v_now    timestamptz := clock_timestamp();
    v_max    integer := tr_setting('inbox.max_attempts')::integer;
    v_failed jsonb;
BEGIN
    -- An order out of attempts that its venue does not have is failed, not sent again.
    SELECT jsonb_agg(tr_exhaustion_report(i)) INTO v_failed
      FROM tr_inbox i JOIN jsonb_to_recordset(p_intents) AS x(order_id text) ON x.order_id = i.id
     WHERE i.state = 'claimed' AND i.lease_owner = p_worker AND i.lease_expires_at > v_now AND i.claim_count >= v_max;
    IF v_failed IS NOT NULL THEN
        PERFORM tr_report_executions(v_failed);
    ELSIF NOT EXISTS (SELECT FROM jsonb_to_recordset(p_intents) AS x(venue text)
                       WHERE NOT EXISTS (SELECT FROM tr_venues v WHERE v.name = x.venue AND v.adapter = 'paper')) THEN
        -- Only venues inside this database: their book is in the same WAL, after this
        -- intent, so a crash can never keep the order and lose the intent. Outside
        -- venues need the intent on disk before anything is sent.
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
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
        SELECT i.id, i.venue, i.symbol, i.status::text, i.filled_qty,
               (SELECT count(*)::integer FROM tr_fills f WHERE f.order_id = i.id), i.curation, i.venue_order_id
          FROM tr_inbox i
         WHERE i.state = 'working' AND (p_venues IS NULL OR i.venue = ANY (p_venues))
         ORDER BY i.created_at;
END
$$;

COMMENT ON FUNCTION tr_working_orders(text[]) IS 'Orders working at the given venues (all when NULL), with their last reported status and fills.';

REVOKE EXECUTE ON FUNCTION tr_record_intents(text, jsonb), tr_working_orders(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_record_intents(text, jsonb), tr_working_orders(text[]) TO tr_worker;

COMMIT;
