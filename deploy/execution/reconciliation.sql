-- Deploy trader:execution/reconciliation to pg
-- The Trader's books and the exchange can part: an order placed by hand or by another
-- program on the same account, a fill the Trader never heard of, a deposit, a fee taken
-- in the base currency. The worker reads the exchange's open orders and balances at
-- start and every reconcile.interval and hands them here; what differs is recorded as a
-- row an operator sees, and a balance that drifted stops new orders for its symbols
-- until an operator has looked (tr_acknowledge_difference). Nothing here changes an
-- order: an order the exchange no longer lists goes back to the worker to ask about.
BEGIN;

INSERT INTO tr_reason_codes (code, applies, stage, meaning) VALUES
    ('BALANCE_DRIFT', 'order', 'pre-trade', 'the exchange''s balance of an asset of the symbol differs from the Trader''s fills beyond reconcile.balance_tolerance (an open balance drift in tr_open_venue_differences) and no operator has acknowledged it: trader venues acknowledge ID --why ...');

INSERT INTO tr_setting_rules (key, kind, min, max, min_open, allow_off) VALUES
    ('reconcile.interval',          'interval', NULL, NULL, false, false),
    ('reconcile.balance_tolerance', 'number',   0,    1,    false, false);

INSERT INTO tr_settings (key, value, description) VALUES
    ('reconcile.interval', '5 minutes',
     'How often the worker compares each ccxt venue''s open orders and balances with the Trader''s (and once at start): an interval.'),
    ('reconcile.balance_tolerance', '0.001',
     'The share of the larger of the two balances (the exchange''s, the Trader''s) a drift may reach without counting: a number from 0 to 1; the market''s lot step is the least drift that counts.');

-- The audit trail takes the new operator action.
ALTER TABLE tr_operator_actions DROP CONSTRAINT tr_operator_actions_action_check,
    ADD CONSTRAINT tr_operator_actions_action_check
        CHECK (action IN ('retry', 'acknowledge', 'resolve', 'cancel', 'schedule_jobs', 'acknowledge_difference'));

CREATE TABLE tr_venue_differences (
    id              text PRIMARY KEY DEFAULT tr_ulid(),
    venue           text NOT NULL CHECK (length(venue) <= 128),
    kind            text NOT NULL CHECK (kind IN ('unknown_open_order', 'balance_drift')),
    subject         text NOT NULL CHECK (length(subject) BETWEEN 1 AND 128),
    symbols         text[] NOT NULL DEFAULT '{}',
    exchange_figure numeric,
    trader_figure   numeric,
    accepted_offset numeric,
    drift           numeric,
    detail          jsonb,
    first_seen_at   timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    cleared_at      timestamptz,
    acknowledged_at timestamptz,
    acknowledged_by text,
    ack_reason      text,
    CHECK ((acknowledged_at IS NULL) = (ack_reason IS NULL))
);

-- One open difference per thing that differs: the next reconciliation refreshes it.
CREATE UNIQUE INDEX tr_venue_differences_open ON tr_venue_differences (venue, kind, subject) WHERE cleared_at IS NULL;
-- What the pre-trade check looks for on every order: is a symbol under an open drift?
CREATE INDEX tr_venue_differences_blocking ON tr_venue_differences USING gin (symbols)
    WHERE kind = 'balance_drift' AND cleared_at IS NULL AND acknowledged_at IS NULL;
COMMENT ON INDEX tr_venue_differences_blocking IS 'The symbols of open, unacknowledged balance drifts: the pre-trade check of every order looks here.';
-- The offset accepted last for a venue and asset.
CREATE INDEX tr_venue_differences_accepted ON tr_venue_differences (venue, subject, acknowledged_at DESC)
    WHERE kind = 'balance_drift' AND acknowledged_at IS NOT NULL;

COMMENT ON TABLE tr_venue_differences IS
    'What a venue''s exchange shows and the Trader''s books do not: open orders the Trader did not place, balances that drifted from the Trader''s fills. Kept after they clear, as history.';
COMMENT ON COLUMN tr_venue_differences.venue IS 'The venue (tr_venues.name) whose exchange was read.';
COMMENT ON COLUMN tr_venue_differences.kind IS 'unknown_open_order: an order open at the exchange that matches no Trader order; balance_drift: the exchange''s balance of an asset differs from the Trader''s fills.';
COMMENT ON COLUMN tr_venue_differences.subject IS 'The exchange''s order id (unknown_open_order) or the asset, e.g. BTC (balance_drift).';
COMMENT ON COLUMN tr_venue_differences.symbols IS 'The Trader''s symbols concerned: those whose base is the asset (blocked while the drift is open and unacknowledged), or the order''s market.';
COMMENT ON COLUMN tr_venue_differences.exchange_figure IS 'What the exchange shows: its total balance of the asset, or the open order''s amount.';
COMMENT ON COLUMN tr_venue_differences.trader_figure IS 'What the Trader''s fills at this venue add up to for the asset: buys minus sells minus fees charged in the asset (balance_drift).';
COMMENT ON COLUMN tr_venue_differences.accepted_offset IS 'exchange minus Trader as an operator last acknowledged it for this venue and asset (0 if never): a known difference that no longer counts.';
COMMENT ON COLUMN tr_venue_differences.drift IS 'exchange_figure - trader_figure - accepted_offset: what is not explained.';
COMMENT ON COLUMN tr_venue_differences.detail IS 'The exchange''s open order as the worker saw it (unknown_open_order).';
COMMENT ON COLUMN tr_venue_differences.first_seen_at IS 'The reconciliation that found it.';
COMMENT ON COLUMN tr_venue_differences.last_seen_at IS 'The last reconciliation that still found it (its figures are that one''s).';
COMMENT ON COLUMN tr_venue_differences.cleared_at IS 'The reconciliation that no longer found it; NULL while open.';
COMMENT ON COLUMN tr_venue_differences.acknowledged_at IS 'When an operator acknowledged it (trader venues acknowledge); an acknowledged drift no longer blocks.';
COMMENT ON COLUMN tr_venue_differences.acknowledged_by IS 'The operator who acknowledged it.';
COMMENT ON COLUMN tr_venue_differences.ack_reason IS 'Why, in the operator''s words (--why).';

-- A JSON string of at most p_max characters, or NULL: the worker's text, bounded.
CREATE FUNCTION tr_json_text(p_value jsonb, p_max integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN jsonb_typeof(p_value) = 'string' AND length(p_value #>> '{}') BETWEEN 1 AND p_max THEN p_value #>> '{}' END
$$;

COMMENT ON FUNCTION tr_json_text(jsonb, integer) IS 'A JSON string of 1 to p_max characters as text; NULL for anything else. Never raises.';

-- An open order as the worker passes it: every field usable, else venue_order_id NULL.
-- Optional fields may be absent or null, but a present one must be usable.
CREATE FUNCTION tr_parse_open_order(e jsonb, OUT venue_order_id text, OUT order_id text, OUT symbol text, OUT amount numeric)
LANGUAGE sql IMMUTABLE
AS $$
    SELECT tr_json_text(e->'venue_order_id', 128), tr_json_text(e->'order_id', 128), tr_json_text(e->'symbol', 128),
           tr_json_numeric(e->'amount')
     WHERE jsonb_typeof(e) = 'object'
       AND tr_json_text(e->'venue_order_id', 128) IS NOT NULL AND tr_json_text(e->'symbol', 128) IS NOT NULL
       AND tr_json_text(e->'side', 128) IS NOT NULL
       AND tr_json_numeric(e->'amount') IS NOT NULL AND tr_json_numeric(e->'filled') IS NOT NULL
       AND (coalesce(jsonb_typeof(e->'order_id'), 'null') = 'null' OR tr_json_text(e->'order_id', 128) IS NOT NULL)
       AND (coalesce(jsonb_typeof(e->'client_order_id'), 'null') = 'null' OR tr_json_text(e->'client_order_id', 128) IS NOT NULL)
       AND (coalesce(jsonb_typeof(e->'created_at'), 'null') = 'null' OR tr_json_text(e->'created_at', 128) IS NOT NULL)
$$;

COMMENT ON FUNCTION tr_parse_open_order(jsonb) IS
    'An exchange open order as the worker passes it ({venue_order_id, order_id, client_order_id, symbol, side, amount, filled, created_at}), or no row when any field is unusable. Never raises.';

-- The open orders: unknown ones recorded, refreshed or cleared; the Trader's working
-- orders the exchange no longer lists returned so the worker asks about them now. An
-- order matches ours by its client order id alone too: one whose report has not yet
-- arrived has no venue or venue_order_id here, and is still ours. Only orders the
-- Trader has not closed match: one the Trader holds final (a cancel it believed) but
-- the exchange still lists open is a difference too. The exchange's id is looked up
-- among working orders (tr_inbox_working_venue_order), never through all history.
CREATE FUNCTION tr_reconcile_open_orders(p_venue text, p_orders jsonb, p_now timestamptz,
                                         OUT follow_up text[], OUT skipped integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_usable jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(jsonb_build_object('venue_order_id', p.venue_order_id, 'order_id', p.order_id,
                                                 'symbol', p.symbol, 'amount', p.amount, 'seen', e))
                    FILTER (WHERE p.venue_order_id IS NOT NULL), '[]'),
           jsonb_array_length(p_orders) - count(p.venue_order_id)
      INTO v_usable, skipped
      FROM jsonb_array_elements(p_orders) e
      LEFT JOIN LATERAL tr_parse_open_order(e) p ON true;

    WITH listed AS (
        SELECT DISTINCT ON (x->>'venue_order_id') x->>'venue_order_id' AS venue_order_id, x->>'symbol' AS symbol,
               (x->>'amount')::numeric AS amount, x->'seen' AS seen
          FROM jsonb_array_elements(v_usable) x
         WHERE NOT EXISTS (SELECT FROM tr_inbox i WHERE i.id = x->>'order_id' AND i.state <> 'done')
           AND NOT EXISTS (SELECT FROM tr_inbox i WHERE i.venue = p_venue AND i.venue_order_id = x->>'venue_order_id'
                                                   AND i.state = 'working')
         ORDER BY x->>'venue_order_id'),
    found AS (
        INSERT INTO tr_venue_differences AS d (venue, kind, subject, symbols, exchange_figure, detail, first_seen_at, last_seen_at)
        SELECT p_venue, 'unknown_open_order', l.venue_order_id, ARRAY[l.symbol], l.amount, l.seen, p_now, p_now FROM listed l
        ON CONFLICT (venue, kind, subject) WHERE cleared_at IS NULL
        DO UPDATE SET last_seen_at = p_now, exchange_figure = EXCLUDED.exchange_figure, detail = EXCLUDED.detail,
                      symbols = EXCLUDED.symbols
        RETURNING d.subject)
    -- An entry that could not be read is not evidence that its order is gone.
    UPDATE tr_venue_differences d SET cleared_at = p_now
     WHERE d.venue = p_venue AND d.kind = 'unknown_open_order' AND d.cleared_at IS NULL
       AND d.subject NOT IN (SELECT f.subject FROM found f)
       AND d.subject NOT IN (SELECT coalesce(e->>'venue_order_id', '') FROM jsonb_array_elements(p_orders) e
                              WHERE jsonb_typeof(e) = 'object');

    SELECT coalesce(array_agg(i.id ORDER BY i.created_at), '{}') INTO follow_up
      FROM tr_inbox i
     WHERE i.state = 'working' AND i.venue = p_venue
       AND NOT EXISTS (SELECT FROM jsonb_array_elements(v_usable) x
                        WHERE x->>'order_id' = i.id OR x->>'venue_order_id' = i.venue_order_id);
END
$$;

COMMENT ON FUNCTION tr_reconcile_open_orders(text, jsonb, timestamptz) IS
    'The open-order half of tr_reconcile_venue: unknown open orders recorded (refreshed, cleared when gone), working orders no longer listed returned as follow_up, unusable entries counted as skipped.';

-- The Trader's balance of an asset at a venue, from its own fills there: what it bought
-- minus what it sold of the symbols whose base is the asset, minus the fees the
-- exchange took in that asset (a fee in the base currency comes out of the balance).
CREATE FUNCTION tr_venue_trader_qty(p_venue text, p_asset text, p_symbols text[])
RETURNS numeric
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT coalesce(sum(CASE i.side WHEN 'buy' THEN f.qty ELSE -f.qty END), 0)
         - coalesce(sum(tr_json_numeric(f.fee_charged->'cost')) FILTER (WHERE f.fee_charged->>'currency' = p_asset), 0)
      FROM tr_inbox i
      JOIN tr_fills f ON f.order_id = i.id
     WHERE i.symbol = ANY (p_symbols) AND f.venue = p_venue
$$;

COMMENT ON FUNCTION tr_venue_trader_qty(text, text, text[]) IS
    'The Trader''s balance of an asset at a venue from its fills there: buys minus sells of the given symbols, minus fees charged in the asset.';

-- exchange minus Trader as an operator last accepted it: the acknowledged drift on top
-- of the offset it was measured against, so that each acknowledgement adds what it saw.
CREATE FUNCTION tr_accepted_offset(p_venue text, p_asset text)
RETURNS numeric
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT coalesce((SELECT d.accepted_offset + d.drift FROM tr_venue_differences d
                      WHERE d.venue = p_venue AND d.subject = p_asset AND d.kind = 'balance_drift' AND d.acknowledged_at IS NOT NULL
                      ORDER BY d.acknowledged_at DESC LIMIT 1), 0)
$$;

COMMENT ON FUNCTION tr_accepted_offset(text, text) IS
    'The difference (exchange - Trader) an operator accepted last for a venue and asset; 0 if none was ever acknowledged.';

-- A balance as the worker passes it, or no row when any field is unusable.
CREATE FUNCTION tr_parse_balance(e jsonb, OUT asset text, OUT symbols text[], OUT exchange_qty numeric, OUT step numeric)
LANGUAGE sql IMMUTABLE
AS $$
    WITH given AS (SELECT CASE WHEN jsonb_typeof(e->'symbols') = 'array' THEN e->'symbols' ELSE '[]' END AS symbols)
    SELECT tr_json_text(e->'asset', 128),
           ARRAY(SELECT s #>> '{}' FROM jsonb_array_elements(g.symbols) s ORDER BY 1),
           tr_json_numeric(e->'exchange_qty'), tr_json_numeric(e->'step')
      FROM given g
     WHERE jsonb_typeof(e) = 'object' AND tr_json_text(e->'asset', 128) IS NOT NULL
       AND jsonb_array_length(g.symbols) BETWEEN 1 AND 128
       AND NOT EXISTS (SELECT FROM jsonb_array_elements(g.symbols) s WHERE tr_json_text(s, 128) IS NULL)
       AND tr_json_numeric(e->'exchange_qty') IS NOT NULL
       AND (coalesce(jsonb_typeof(e->'step'), 'null') = 'null' OR tr_json_numeric(e->'step') >= 0)
$$;

COMMENT ON FUNCTION tr_parse_balance(jsonb) IS
    'An exchange balance as the worker passes it ({asset, symbols (1 to 128), exchange_qty, step}), or no row when any field is unusable. Never raises.';

-- The balances: a drift beyond the tolerance opens (or refreshes) a difference, none
-- clears it. An acknowledged drift is cleared here in either case: its drift is now
-- part of the accepted offset, and a further drift is a new difference to look at.
CREATE FUNCTION tr_reconcile_balances(p_venue text, p_balances jsonb, p_now timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_tolerance numeric := tr_setting('reconcile.balance_tolerance')::numeric;
    b           record;
    v_trader    numeric;
    v_offset    numeric;
    v_drift     numeric;
    v_counts    boolean;
    v_used      integer := 0;
BEGIN
    FOR b IN SELECT DISTINCT ON (p.asset) p.* FROM jsonb_array_elements(p_balances) e, tr_parse_balance(e) p
                 WHERE p.asset IS NOT NULL ORDER BY p.asset LOOP
        v_used := v_used + 1;
        v_trader := tr_venue_trader_qty(p_venue, b.asset, b.symbols);
        v_offset := tr_accepted_offset(p_venue, b.asset);
        v_drift := b.exchange_qty - v_trader - v_offset;
        v_counts := abs(v_drift) > greatest(coalesce(b.step, 0), v_tolerance * greatest(abs(b.exchange_qty), abs(v_trader)));
        UPDATE tr_venue_differences SET cleared_at = p_now
         WHERE venue = p_venue AND kind = 'balance_drift' AND subject = b.asset AND cleared_at IS NULL
           AND (acknowledged_at IS NOT NULL OR NOT v_counts);
        IF v_counts THEN
            INSERT INTO tr_venue_differences AS d (venue, kind, subject, symbols, exchange_figure, trader_figure, accepted_offset,
                                                   drift, first_seen_at, last_seen_at)
            VALUES (p_venue, 'balance_drift', b.asset, b.symbols, b.exchange_qty, v_trader, v_offset, v_drift, p_now, p_now)
            ON CONFLICT (venue, kind, subject) WHERE cleared_at IS NULL
            DO UPDATE SET symbols = EXCLUDED.symbols, exchange_figure = EXCLUDED.exchange_figure,
                          trader_figure = EXCLUDED.trader_figure, accepted_offset = EXCLUDED.accepted_offset,
                          drift = EXCLUDED.drift, last_seen_at = p_now;
        END IF;
    END LOOP;
    -- A repeated asset counts once; the others are skipped like unusable entries.
    RETURN jsonb_array_length(p_balances) - v_used;
END
$$;

COMMENT ON FUNCTION tr_reconcile_balances(text, jsonb, timestamptz) IS
    'The balance half of tr_reconcile_venue: each asset''s drift (exchange - Trader - accepted offset) beyond reconcile.balance_tolerance and the lot step opens or refreshes a balance_drift, none clears it. Returns the entries skipped.';

-- The worker's one call per venue. Content never raises: a part that is not an array
-- is skipped whole and left as it was, like a part not fetched (NULL).
CREATE FUNCTION tr_reconcile_venue(p_venue text, p_open_orders jsonb, p_balances jsonb, p_now timestamptz DEFAULT clock_timestamp())
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_orders   record;
    v_skipped  integer := 0;
    v_follow   text[] := '{}';
BEGIN
    IF coalesce(length(p_venue), 0) NOT BETWEEN 1 AND 128 THEN
        RETURN jsonb_build_object('unknown_open_orders', 0, 'balance_drifts', 0, 'follow_up', '[]'::jsonb,
                                  'skipped', coalesce(CASE WHEN jsonb_typeof(p_open_orders) = 'array' THEN jsonb_array_length(p_open_orders) END, 0)
                                           + coalesce(CASE WHEN jsonb_typeof(p_balances) = 'array' THEN jsonb_array_length(p_balances) END, 0));
    END IF;
    -- One reconciliation of a venue at a time: two workers would clear each other's finds.
    PERFORM pg_advisory_xact_lock(hashtext('tr_reconcile_venue'), hashtext(p_venue));
    IF jsonb_typeof(p_open_orders) = 'array' THEN
        v_orders := tr_reconcile_open_orders(p_venue, p_open_orders, p_now);
        v_follow := v_orders.follow_up;
        v_skipped := v_orders.skipped;
    ELSIF p_open_orders IS NOT NULL AND jsonb_typeof(p_open_orders) <> 'null' THEN
        v_skipped := 1;
    END IF;
    IF jsonb_typeof(p_balances) = 'array' THEN
        v_skipped := v_skipped + tr_reconcile_balances(p_venue, p_balances, p_now);
    ELSIF p_balances IS NOT NULL AND jsonb_typeof(p_balances) <> 'null' THEN
        v_skipped := v_skipped + 1;
    END IF;
    RETURN jsonb_build_object(
        'unknown_open_orders', (SELECT count(*) FROM tr_venue_differences
                                 WHERE venue = p_venue AND kind = 'unknown_open_order' AND cleared_at IS NULL),
        'balance_drifts', (SELECT count(*) FROM tr_venue_differences
                            WHERE venue = p_venue AND kind = 'balance_drift' AND cleared_at IS NULL),
        'follow_up', to_jsonb(v_follow),
        'skipped', v_skipped);
END
$$;

COMMENT ON FUNCTION tr_reconcile_venue(text, jsonb, jsonb, timestamptz) IS
    'The worker''s reconciliation of a venue with what its exchange shows: open orders [{venue_order_id, order_id, client_order_id, symbol, side, amount, filled, created_at}] and balances [{asset, symbols, exchange_qty, step}], either NULL when not fetched. Returns {unknown_open_orders, balance_drifts (open for the venue), follow_up (working order ids the exchange no longer lists), skipped}. Never raises on content.';

CREATE VIEW tr_open_venue_differences AS
SELECT d.id, d.venue, d.kind, d.subject, d.symbols, d.exchange_figure, d.trader_figure, d.accepted_offset, d.drift,
       d.acknowledged_at IS NOT NULL AS acknowledged, d.first_seen_at, d.last_seen_at, d.acknowledged_at, d.acknowledged_by,
       d.ack_reason, d.detail,
       CASE WHEN d.acknowledged_at IS NOT NULL AND d.kind = 'balance_drift' THEN 'acknowledged: cleared at the next reconciliation'
            WHEN d.acknowledged_at IS NOT NULL THEN 'acknowledged: listed until the exchange no longer shows it'
            WHEN d.kind = 'balance_drift' THEN 'find the cause at the exchange (deposit, withdrawal, trade outside the Trader), then trader venues acknowledge ID --why ...'
            ELSE 'find who placed it at the exchange (cancel it there if it is not wanted), then trader venues acknowledge ID --why ...' END AS next_step
  FROM tr_venue_differences d
 WHERE d.cleared_at IS NULL
 ORDER BY d.first_seen_at DESC, d.id DESC;

COMMENT ON VIEW tr_open_venue_differences IS
    'The venue differences still open, newest first, with both figures, whether an operator acknowledged them and the next step. An unacknowledged balance_drift blocks its symbols (BALANCE_DRIFT).';
COMMENT ON COLUMN tr_open_venue_differences.acknowledged IS 'Whether an operator has acknowledged it; an acknowledged drift no longer blocks.';
COMMENT ON COLUMN tr_open_venue_differences.next_step IS 'What the operator does next.';

-- The health verdict of the differences, for tr_health: the first drift's figures
-- are in the detail, since they are what the operator checks at the exchange.
CREATE FUNCTION tr_health_venue_differences()
RETURNS TABLE (status text, value text, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    WITH open AS (SELECT * FROM tr_open_venue_differences WHERE NOT acknowledged),
         first_drift AS (SELECT * FROM open WHERE kind = 'balance_drift' ORDER BY first_seen_at, id LIMIT 1)
    SELECT CASE WHEN count(*) > 0 THEN 'degraded' ELSE 'ok' END,
           format('%s balance drifts, %s unknown open orders', count(*) FILTER (WHERE kind = 'balance_drift'),
                  count(*) FILTER (WHERE kind = 'unknown_open_order')),
           CASE WHEN count(*) = 0 THEN 'the exchanges show what the Trader''s books say'
                ELSE concat_ws('; ',
                    (SELECT format('%s at %s: exchange %s, Trader %s (drift %s, accepted offset %s), orders for %s are refused BALANCE_DRIFT',
                                   f.subject, f.venue, f.exchange_figure, f.trader_figure, f.drift, f.accepted_offset,
                                   array_to_string(f.symbols, ', ')) FROM first_drift f),
                    CASE WHEN count(*) FILTER (WHERE kind = 'unknown_open_order') > 0
                         THEN 'orders open at an exchange that the Trader did not place' END,
                    'see tr_open_venue_differences (trader venues differences), find the cause at the exchange, then trader venues acknowledge ID --why ...')
           END
      FROM open
$$;

COMMENT ON FUNCTION tr_health_venue_differences() IS
    'The verdict of the venue_differences check: degraded while any open difference is unacknowledged, with the first drift''s figures and what to do.';

-- Locks the difference an operator names, with the reason checked.
CREATE FUNCTION tr_assert_operator_difference(p_id text, p_why text)
RETURNS tr_venue_differences
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    d tr_venue_differences;
BEGIN
    IF coalesce(btrim(p_why), '') = '' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'an operator action needs a reason',
            HINT = 'Say why (--why ''...''): what the exchange shows and why it is right; it is kept in tr_operator_actions.';
    END IF;
    SELECT * INTO d FROM tr_venue_differences WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format('no venue difference %s', left(coalesce(p_id, 'NULL'), 128)),
            HINT = 'Name an id of tr_open_venue_differences: trader venues differences lists them.';
    ELSIF d.acknowledged_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '55000',
            MESSAGE = format('venue difference %s was already acknowledged by %s at %s', d.id, d.acknowledged_by, d.acknowledged_at),
            HINT = 'Nothing to do: a further drift is a new difference with its own id.';
    ELSIF d.cleared_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('venue difference %s is no longer open: cleared at %s', d.id, d.cleared_at),
            HINT = 'The exchange and the Trader agree again; trader venues differences lists the open ones.';
    END IF;
    RETURN d;
END
$$;

COMMENT ON FUNCTION tr_assert_operator_difference(text, text) IS
    'The open, unacknowledged venue difference an operator names, locked; raises 22023 for a missing reason, P0002 for an unknown id, 55000 for one acknowledged or cleared already.';

CREATE FUNCTION tr_acknowledge_difference(p_id text, p_why text, p_actor text DEFAULT NULL, p_now timestamptz DEFAULT clock_timestamp())
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    d        tr_venue_differences := tr_assert_operator_difference(p_id, p_why);
    v_actor  text := coalesce(p_actor, session_user::text);
    v_action text;
BEGIN
    INSERT INTO tr_operator_actions (action, order_id, actor, reason, details, at)
    VALUES ('acknowledge_difference', NULL, v_actor, p_why,
            jsonb_build_object('difference', to_jsonb(d))
            || CASE WHEN p_actor IS DISTINCT FROM session_user::text AND p_actor IS NOT NULL
                    THEN jsonb_build_object('session_user', session_user) ELSE '{}' END,
            p_now)
    RETURNING id INTO v_action;
    UPDATE tr_venue_differences SET acknowledged_at = p_now, acknowledged_by = v_actor, ack_reason = p_why WHERE id = d.id;
    RETURN v_action;
END
$$;

COMMENT ON FUNCTION tr_acknowledge_difference(text, text, text, timestamptz) IS
    'Operator: acknowledges an open venue difference. A balance drift stops blocking its symbols and exchange - Trader as it stands becomes the accepted offset for the venue and asset; an unknown open order is marked seen and stays listed while the exchange shows it. Recorded in tr_operator_actions. Returns the action id.';

REVOKE EXECUTE ON FUNCTION tr_json_text(jsonb, integer), tr_parse_open_order(jsonb),
                           tr_reconcile_open_orders(text, jsonb, timestamptz), tr_venue_trader_qty(text, text, text[]),
                           tr_accepted_offset(text, text), tr_parse_balance(jsonb),
                           tr_reconcile_balances(text, jsonb, timestamptz),
                           tr_reconcile_venue(text, jsonb, jsonb, timestamptz), tr_health_venue_differences(),
                           tr_assert_operator_difference(text, text),
                           tr_acknowledge_difference(text, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_reconcile_venue(text, jsonb, jsonb, timestamptz) TO tr_worker;
GRANT EXECUTE ON FUNCTION tr_acknowledge_difference(text, text, text, timestamptz) TO tr_operator;
GRANT EXECUTE ON FUNCTION tr_health_venue_differences() TO tr_worker, tr_inspector, tr_operator;
GRANT SELECT ON tr_venue_differences TO tr_inspector;
GRANT SELECT ON tr_open_venue_differences TO tr_worker, tr_inspector, tr_operator;

COMMIT;
