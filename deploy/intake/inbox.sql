-- Deploy trader:intake/inbox
-- The durable inbox and the orders' typed state: every order the Trader executes is a
-- row here, written in the same transaction as the decision that asks for it, so
-- nothing is lost while no worker listens. The order_spec is parsed once, on insert,
-- into typed columns; everything downstream reads those, never the JSON again.
-- Workers claim rows under a lease and take back expired leases themselves.
BEGIN;

INSERT INTO tr_settings (key, value, description) VALUES
    ('inbox.max_attempts', '5', 'How many claims an order may take before it ends failed with PROCESSING_ERROR and is listed as a dead letter.');

CREATE TABLE tr_inbox (
    id               text PRIMARY KEY DEFAULT tr_ulid(),
    source           text NOT NULL CHECK (source IN ('decision', 'monitor')),
    source_id        text NOT NULL,
    lifecycle_id     text CHECK (length(lifecycle_id) <= 128),
    symbol           text CHECK (length(symbol) <= 64),
    timeframe        text CHECK (length(timeframe) <= 64),
    session_bucket   text CHECK (length(session_bucket) <= 64),
    regime           text CHECK (length(regime) <= 64),
    signal_strength  numeric,
    order_spec       jsonb,
    side             text CHECK (side IN ('buy', 'sell')),
    qty              numeric CHECK (qty > 0),
    order_type       text CHECK (order_type IN ('market', 'limit')),
    limit_px         numeric CHECK (limit_px > 0),
    tif              text CHECK (tif IN ('ioc', 'gtc', 'day')),
    requested_venue  text CHECK (length(requested_venue) <= 64),
    ref_px           numeric CHECK (ref_px > 0),
    stop_loss_px     numeric CHECK (stop_loss_px > 0),
    take_profit_px   numeric CHECK (take_profit_px > 0),
    reduce_only      boolean NOT NULL DEFAULT false,
    venue            text CHECK (length(venue) <= 64),
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'claimed', 'working', 'done')),
    status           tr_order_status NOT NULL DEFAULT 'received',
    reason           text REFERENCES tr_reason_codes (code),
    detail           text,
    order_qty        numeric CHECK (order_qty > 0 AND order_qty <= qty),
    filled_qty       numeric NOT NULL DEFAULT 0 CHECK (filled_qty >= 0 AND filled_qty <= coalesce(order_qty, qty, 0)),
    fill_value       numeric NOT NULL DEFAULT 0,
    avg_px           numeric GENERATED ALWAYS AS (round(fill_value / nullif(filled_qty, 0), 8)) STORED,
    fees             numeric NOT NULL DEFAULT 0,
    venue_order_id   text CHECK (length(venue_order_id) <= 128),
    submitted_at     timestamptz,
    last_fill_at     timestamptz,
    arrival_px       numeric,
    arrival_source   text CHECK (arrival_source IN ('order', 'quote')),
    execution_id     text,
    submit_intent_at timestamptz,
    curation         jsonb,
    claim_count      integer NOT NULL DEFAULT 0,
    last_error       text,
    lease_owner      text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (state <> 'claimed' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL))
);

CREATE INDEX tr_inbox_claimable ON tr_inbox (created_at, id) WHERE state IN ('pending', 'claimed');
CREATE INDEX tr_inbox_source ON tr_inbox (source_id);
CREATE INDEX tr_inbox_attempts ON tr_inbox (claim_count) WHERE state IN ('pending', 'claimed');
COMMENT ON INDEX tr_inbox_attempts IS 'The orders out of attempts, looked for by every claim without reading the whole backlog.';

CREATE INDEX tr_inbox_working ON tr_inbox (created_at) WHERE state = 'working';
COMMENT ON INDEX tr_inbox_working IS 'Orders resting at venues, followed by the worker every poll.';

COMMENT ON TABLE tr_inbox IS
    'Orders: one row per order the Trader executes, its work-item state and its typed order state. The id is the client order id at the venue.';
COMMENT ON COLUMN tr_inbox.id IS 'The decision''s id for a decision; a new ULID for an exit order made by a monitor.';
COMMENT ON COLUMN tr_inbox.source IS 'decision (a dm_strand row tagged trader:execute) or monitor (an exit order).';
COMMENT ON COLUMN tr_inbox.source_id IS 'The dm_strand id of the decision, or the tr_strand id of the monitoring strand.';
COMMENT ON COLUMN tr_inbox.order_spec IS 'As the source gave it (NULL when larger than 1 MB); parsed once on insert into the typed columns.';
COMMENT ON COLUMN tr_inbox.requested_venue IS 'The venue the order_spec asks for, if any.';
COMMENT ON COLUMN tr_inbox.venue IS 'The venue the order was (or is about to be) sent to, committed before sending.';
COMMENT ON COLUMN tr_inbox.state IS
    'pending (waiting), claimed (a worker holds it until lease_expires_at), working (resting at a venue), done (final report written).';
COMMENT ON COLUMN tr_inbox.status IS 'The order''s status (tr_statuses); received until its first report.';
COMMENT ON COLUMN tr_inbox.reason IS
    'A reason code (tr_reason_codes): set on insert when the order_spec is not usable, else by a rejected or failed report.';
COMMENT ON COLUMN tr_inbox.order_qty IS 'The quantity sent: the decision''s qty, or less when curation scaled it down.';
COMMENT ON COLUMN tr_inbox.fill_value IS 'Sum of qty x px over the order''s fills, exact; avg_px is fill_value / filled_qty rounded to 8 places.';
COMMENT ON COLUMN tr_inbox.arrival_px IS 'The reference price slippage is measured from: the order''s ref_px, else the quote''s mark when first reported (arrival_source says which).';
COMMENT ON COLUMN tr_inbox.execution_id IS 'The order''s execution strand in tr_strand, the Decision Maker''s view of this row.';
COMMENT ON COLUMN tr_inbox.submit_intent_at IS
    'When the worker committed its intent to send; set means the order may be at the venue, so a new claim reconciles before sending.';
COMMENT ON COLUMN tr_inbox.curation IS 'The curation outcome the order was sent with: order_qty, tr_predict, lesson_metadata.';
COMMENT ON COLUMN tr_inbox.claim_count IS 'How many times a worker claimed it: every claim is an attempt; past inbox.max_attempts the order fails PROCESSING_ERROR.';
COMMENT ON COLUMN tr_inbox.last_error IS 'The last error a worker recorded while handling the order (tr_record_order_errors).';

-- A text bounded for indexes and notifications: NULL when longer than p_max.
CREATE FUNCTION tr_bounded(p_value text, p_max integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN length(p_value) <= p_max THEN p_value END
$$;

COMMENT ON FUNCTION tr_bounded(text, integer) IS 'p_value when it has at most p_max characters, else NULL.';

-- The first text of a decision row past its bound, as 'field: ...', else NULL. Btree
-- rows stop near 2.7 kB and NOTIFY payloads at 8,000 bytes; the bounds keep every
-- text the Trader indexes or notifies well inside both.
CREATE FUNCTION tr_oversized_text(p_id text, p_lifecycle_id text, p_symbol text, p_timeframe text,
                                  p_session_bucket text, p_regime text, p_kind text, p_module text, p_tags text[])
RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    -- Plain comparisons before any query: this runs in every Decision Maker insert.
    RETURN CASE
        WHEN length(p_id) > 128 THEN 'id: longer than 128 characters'
        WHEN length(p_lifecycle_id) > 128 THEN 'lifecycle_id: longer than 128 characters'
        WHEN length(p_symbol) > 64 THEN 'symbol: longer than 64 characters'
        WHEN length(p_timeframe) > 64 THEN 'timeframe: longer than 64 characters'
        WHEN length(p_session_bucket) > 64 THEN 'session_bucket: longer than 64 characters'
        WHEN length(p_regime) > 64 THEN 'regime: longer than 64 characters'
        WHEN length(p_kind) > 32 THEN 'kind: longer than 32 characters'
        WHEN length(p_module) > 32 THEN 'module: longer than 32 characters'
        WHEN cardinality(p_tags) > 32 THEN format('tags: %s tags, at most 32', cardinality(p_tags))
        ELSE (SELECT 'tags: a tag longer than 64 characters' FROM unnest(p_tags) t WHERE length(t) > 64 LIMIT 1)
        END;
END
$$;

COMMENT ON FUNCTION tr_oversized_text(text, text, text, text, text, text, text, text, text[]) IS
    'The first of a strand row''s texts past its bound (id and lifecycle_id 128, symbol, timeframe, session_bucket, regime 64, kind and module 32, at most 32 tags of 64), as a detail; NULL when all fit.';

-- One positive finite number below 10^12 with at most 8 decimal places, or a detail.
CREATE FUNCTION tr_parse_quantity(p_spec jsonb, p_key text, OUT value numeric, OUT problem text)
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF coalesce(jsonb_typeof(p_spec->p_key), 'null') = 'null' THEN
        RETURN;
    END IF;
    value := tr_json_numeric(p_spec->p_key);
    IF value IS NULL OR value <= 0 OR value >= 1e12 THEN
        problem := format('%s: must be a positive finite number below 10^12, got %s', p_key, left((p_spec->p_key)::text, 64));
    ELSIF tr_decimal_places(value) > 8 THEN
        problem := format('%s: more than 8 decimal places (%s)', p_key, left(value::text, 64));
    END IF;
    IF problem IS NOT NULL THEN
        value := NULL;
    END IF;
END
$$;

COMMENT ON FUNCTION tr_parse_quantity(jsonb, text) IS
    'p_spec->p_key as a positive number below 10^12 with at most 8 decimal places; NULL when absent; a problem naming the key when unusable. Never raises.';

-- The order_spec's contract, checked once. A detail names the first field that is
-- wrong and quotes at most 64 characters of it, so a hostile value never travels on.
CREATE FUNCTION tr_parse_order(p_symbol text, p_spec jsonb,
    OUT side text, OUT qty numeric, OUT order_type text, OUT limit_px numeric, OUT tif text,
    OUT requested_venue text, OUT ref_px numeric, OUT stop_loss_px numeric, OUT take_profit_px numeric,
    OUT reduce_only boolean, OUT reason text, OUT detail text)
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_key text;
    v_num record;
BEGIN
    reason := 'INVALID_ORDER_SPEC';
    IF coalesce(btrim(p_symbol), '') = '' THEN
        detail := 'symbol: the decision names no symbol'; RETURN;
    ELSIF jsonb_typeof(p_spec) IS DISTINCT FROM 'object' THEN
        detail := 'order_spec: not a JSON object'; RETURN;
    END IF;
    side := p_spec->>'side';
    IF jsonb_typeof(p_spec->'side') IS DISTINCT FROM 'string' OR side NOT IN ('buy', 'sell') THEN
        detail := format('side: must be buy or sell, got %s', coalesce(left((p_spec->'side')::text, 64), 'nothing')); RETURN;
    END IF;
    order_type := coalesce(p_spec->>'order_type', 'market');
    tif := p_spec->>'tif';
    IF coalesce(jsonb_typeof(p_spec->'order_type'), 'string') <> 'string' OR order_type NOT IN ('market', 'limit') THEN
        detail := format('order_type: must be market or limit, got %s', left((p_spec->'order_type')::text, 64)); RETURN;
    ELSIF coalesce(jsonb_typeof(p_spec->'tif'), 'string') <> 'string' OR coalesce(tif, 'ioc') NOT IN ('ioc', 'gtc', 'day') THEN
        detail := format('tif: must be ioc, gtc or day, got %s', left((p_spec->'tif')::text, 64)); RETURN;
    ELSIF coalesce(jsonb_typeof(p_spec->'qty'), 'null') = 'null' THEN
        detail := 'qty: missing'; RETURN;
    END IF;
    FOREACH v_key IN ARRAY ARRAY['qty', 'limit_px', 'ref_px', 'stop_loss_px', 'take_profit_px'] LOOP
        v_num := tr_parse_quantity(p_spec, v_key);
        IF v_num.problem IS NOT NULL THEN
            detail := v_num.problem; RETURN;
        END IF;
        CASE v_key WHEN 'qty' THEN qty := v_num.value; WHEN 'limit_px' THEN limit_px := v_num.value;
                   WHEN 'ref_px' THEN ref_px := v_num.value; WHEN 'stop_loss_px' THEN stop_loss_px := v_num.value;
                   ELSE take_profit_px := v_num.value; END CASE;
    END LOOP;
    IF order_type = 'limit' AND limit_px IS NULL THEN
        detail := 'limit_px: a limit order needs a limit price'; RETURN;
    ELSIF coalesce(jsonb_typeof(p_spec->'reduce_only'), 'null') NOT IN ('boolean', 'null') THEN
        detail := format('reduce_only: must be true or false, got %s', left((p_spec->'reduce_only')::text, 64)); RETURN;
    END IF;
    requested_venue := p_spec->>'venue';
    IF coalesce(jsonb_typeof(p_spec->'venue'), 'null') NOT IN ('string', 'null') OR btrim(requested_venue) = ''
       OR length(requested_venue) > 64 THEN
        detail := format('venue: must be a venue name of at most 64 characters, got %s', left((p_spec->'venue')::text, 64)); RETURN;
    END IF;
    -- A long's stop sits below its take-profit, a short's above.
    IF (stop_loss_px - take_profit_px) * (CASE side WHEN 'buy' THEN 1 ELSE -1 END) >= 0 THEN
        detail := format('stop_loss_px: %s is on the wrong side of take_profit_px %s for a %s', stop_loss_px, take_profit_px, side);
        RETURN;
    END IF;
    reduce_only := coalesce((p_spec->>'reduce_only')::boolean, false);
    reason := NULL;
END
$$;

COMMENT ON FUNCTION tr_parse_order(text, jsonb) IS
    'Parses an order_spec into typed fields, or INVALID_ORDER_SPEC and a detail naming the field. Never raises.';

-- Every insert, whoever makes it, gets the typed columns from the one parse. A reason
-- set by the caller (a bound the decision row broke) is kept.
CREATE FUNCTION tr_type_order()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    p := tr_parse_order(NEW.symbol, NEW.order_spec);
    IF p.reason IS NOT NULL THEN
        NEW.reason := coalesce(NEW.reason, p.reason);
        NEW.detail := CASE WHEN NEW.reason = p.reason AND NEW.detail IS NULL THEN p.detail ELSE NEW.detail END;
        RETURN NEW;
    END IF;
    NEW.side := p.side; NEW.qty := p.qty; NEW.order_type := p.order_type; NEW.limit_px := p.limit_px;
    NEW.tif := p.tif; NEW.ref_px := p.ref_px; NEW.stop_loss_px := p.stop_loss_px;
    NEW.take_profit_px := p.take_profit_px; NEW.reduce_only := p.reduce_only;
    NEW.requested_venue := p.requested_venue;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION tr_type_order() IS 'Trigger on tr_inbox: parses the order_spec once into the typed columns (tr_parse_order).';
REVOKE EXECUTE ON FUNCTION tr_type_order() FROM PUBLIC;

CREATE TRIGGER tr_type_order BEFORE INSERT ON tr_inbox FOR EACH ROW EXECUTE FUNCTION tr_type_order();

-- SKIP LOCKED lets workers claim side by side without waiting on each other; the
-- caller may pass the time so that lease expiry is testable. Every claim counts an
-- attempt; an order out of attempts is not claimed again but failed, by
-- tr_fail_exhausted_orders, unless it may be at a venue (its intent was committed):
-- then it is claimed once more, so that its venue is asked before anything else.
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
    v_max   integer := tr_setting('inbox.max_attempts')::integer;
BEGIN
    IF coalesce(btrim(p_worker), '') = '' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'tr_claim_orders: worker id is empty',
            HINT = 'Pass a stable name for the claiming worker, e.g. host:pid.';
    ELSIF p_batch_size IS NULL OR p_batch_size < 1 THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('tr_claim_orders: batch size %s is not positive', p_batch_size),
            HINT = 'Claim at least one item.';
    ELSIF v_lease <= interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('tr_claim_orders: lease %s is not positive', v_lease),
            HINT = 'Set inbox.lease in tr_settings to a positive interval.';
    END IF;
    -- A claim lost in a crash costs nothing (the order is claimed again), so its commit
    -- need not wait for the WAL flush; failing orders out of attempts reports them,
    -- and reports are durable.
    IF tr_fail_exhausted_orders(p_batch_size, p_now) = 0 THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;

    RETURN QUERY
    WITH picked AS (
        SELECT i.id
          FROM tr_inbox i
         WHERE i.state IN ('pending', 'claimed')
           AND (i.state = 'pending' OR i.lease_expires_at <= p_now)
           AND (i.claim_count < v_max OR i.submit_intent_at IS NOT NULL AND i.claim_count < 2 * v_max)
           AND (p_venues IS NULL OR coalesce(i.venue, i.requested_venue) IS NULL
                OR coalesce(i.venue, i.requested_venue) = ANY (p_venues))
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
    'Claims up to p_batch_size pending work items, or claimed ones whose lease expired, for p_worker under a lease (inbox.lease by default), counting an attempt each; first fails the orders out of attempts (tr_fail_exhausted_orders). With p_venues, only orders whose venue (the one sent to, else the one asked for) is unset or one of those.';
REVOKE EXECUTE ON FUNCTION tr_claim_orders(text, integer, interval, timestamptz, text[]) FROM PUBLIC;

-- A batch that failed in the worker: its orders keep the error and return at once
-- (their lease ends now), to be claimed again, reconciled first if sent.
CREATE FUNCTION tr_release_orders(p_worker text, p_order_ids text[], p_error text)
RETURNS integer
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
    WITH released AS (
        UPDATE tr_inbox
           SET last_error = left(p_error, 2000), lease_expires_at = clock_timestamp(), updated_at = clock_timestamp()
         WHERE id = ANY (p_order_ids) AND state = 'claimed' AND lease_owner = p_worker
        RETURNING 1)
    SELECT count(*)::integer FROM released
$$;

COMMENT ON FUNCTION tr_release_orders(text, text[], text) IS
    'Records the error a worker met while handling these orders (at most 2,000 characters) and ends its lease on them now; returns how many it still held.';
REVOKE EXECUTE ON FUNCTION tr_release_orders(text, text[], text), tr_bounded(text, integer),
                           tr_oversized_text(text, text, text, text, text, text, text, text, text[]),
                           tr_parse_quantity(jsonb, text), tr_parse_order(text, jsonb) FROM PUBLIC;

COMMIT;
