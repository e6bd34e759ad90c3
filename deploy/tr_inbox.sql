-- Deploy trader:tr_inbox
-- The durable inbox: every order the Trader executes is a row here, written in the
-- same transaction as the decision that asks for it, so nothing is lost while no
-- worker listens. Workers claim rows under a lease and take back expired leases
-- themselves, so a dead worker's orders return without waiting for any cron job.
BEGIN;

CREATE TABLE tr_inbox (
    id               text PRIMARY KEY DEFAULT tr_ulid(),
    source           text NOT NULL CHECK (source IN ('decision', 'monitor')),
    source_id        text NOT NULL,
    lifecycle_id     text,
    symbol           text,
    timeframe        text,
    session_bucket   text,
    regime           text,
    signal_strength  numeric,
    order_spec       jsonb,
    venue            text,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'claimed', 'working', 'done')),
    claim_count      integer NOT NULL DEFAULT 0,
    lease_owner      text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (state <> 'claimed' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
);

CREATE INDEX tr_inbox_claimable ON tr_inbox (created_at, id) WHERE state IN ('pending', 'claimed');
CREATE INDEX tr_inbox_source ON tr_inbox (source_id);

COMMENT ON TABLE tr_inbox IS
    'Work items: one per order the Trader executes. The id is the client order id at the venue.';
COMMENT ON COLUMN tr_inbox.id IS 'The decision''s id for a decision; a new ULID for an exit order made by a monitor.';
COMMENT ON COLUMN tr_inbox.source IS 'decision (a dm_strand row tagged trader:execute) or monitor (an exit order).';
COMMENT ON COLUMN tr_inbox.source_id IS 'The dm_strand id of the decision, or the tr_strand id of the monitoring strand.';
COMMENT ON COLUMN tr_inbox.order_spec IS 'As the source gave it; validated by the pre-trade check, never by the insert.';
COMMENT ON COLUMN tr_inbox.venue IS 'The venue the order was (or is about to be) sent to, committed before sending.';
COMMENT ON COLUMN tr_inbox.state IS
    'pending (waiting), claimed (a worker holds it until lease_expires_at), working (resting at a venue), done (final report written).';
COMMENT ON COLUMN tr_inbox.claim_count IS 'How many times a worker claimed it; above 1 means a lease expired and the order needs reconciling.';

-- A peer's insert must never fail because of the Trader: the function only copies
-- columns, and ON CONFLICT makes a re-tagged decision a no-op.
CREATE FUNCTION tr_enqueue_decision()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    INSERT INTO tr_inbox (id, source, source_id, lifecycle_id, symbol, timeframe, session_bucket,
                          regime, signal_strength, order_spec)
    VALUES (NEW.id, 'decision', NEW.id, NEW.lifecycle_id, NEW.symbol, NEW.timeframe, NEW.session_bucket,
            NEW.regime, NEW.signal_strength, NEW.order_spec)
    ON CONFLICT (id) DO NOTHING;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION tr_enqueue_decision() IS
    'Trigger on dm_strand: a row tagged trader:execute becomes a work item in the same transaction.';
REVOKE EXECUTE ON FUNCTION tr_enqueue_decision() FROM PUBLIC;

CREATE TRIGGER tr_enqueue_decision
    AFTER INSERT OR UPDATE OF tags ON dm_strand
    FOR EACH ROW
    WHEN (NEW.tags @> ARRAY['trader:execute']::text[])
    EXECUTE FUNCTION tr_enqueue_decision();

-- SKIP LOCKED lets workers claim side by side without waiting on each other; the
-- caller may pass the time so that lease expiry is testable.
CREATE FUNCTION tr_claim_orders(
    p_worker     text,
    p_batch_size integer     DEFAULT 10,
    p_lease      interval    DEFAULT NULL,
    p_now        timestamptz DEFAULT clock_timestamp(),
    p_venues     text[]      DEFAULT NULL)
RETURNS SETOF tr_inbox
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_lease interval := coalesce(p_lease, tr_setting('inbox.lease')::interval);
BEGIN
    IF coalesce(btrim(p_worker), '') = '' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'tr_claim_orders: worker id is empty',
            HINT = 'Pass a stable name for the claiming worker, e.g. host:pid.';
    END IF;
    IF p_batch_size IS NULL OR p_batch_size < 1 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('tr_claim_orders: batch size %s is not positive', p_batch_size),
            HINT = 'Claim at least one item.';
    END IF;
    IF v_lease <= interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('tr_claim_orders: lease %s is not positive', v_lease),
            HINT = 'Set inbox.lease in tr_settings to a positive interval.';
    END IF;

    RETURN QUERY
    WITH picked AS (
        SELECT i.id
          FROM tr_inbox i
         WHERE i.state IN ('pending', 'claimed')
           AND (i.state = 'pending' OR i.lease_expires_at <= p_now)
           AND (p_venues IS NULL OR coalesce(i.venue, i.order_spec->>'venue') IS NULL
                OR coalesce(i.venue, i.order_spec->>'venue') = ANY (p_venues))
         ORDER BY i.created_at, i.id
         LIMIT p_batch_size
           FOR UPDATE SKIP LOCKED
    )
    UPDATE tr_inbox i
       SET state = 'claimed',
           lease_owner = p_worker,
           lease_expires_at = p_now + v_lease,
           claim_count = i.claim_count + 1,
           updated_at = p_now
      FROM picked
     WHERE i.id = picked.id
    RETURNING i.*;
END
$$;

COMMENT ON FUNCTION tr_claim_orders(text, integer, interval, timestamptz, text[]) IS
    'Claims up to p_batch_size pending work items, or claimed ones whose lease expired, for p_worker under a lease (inbox.lease by default); with p_venues, only orders whose venue (the one sent to, else the one asked for) is unset or one of those.';
REVOKE EXECUTE ON FUNCTION tr_claim_orders(text, integer, interval, timestamptz, text[]) FROM PUBLIC;

COMMIT;
