-- Deploy trader:ops/operator_actions
-- What an operator does to an order the pipeline could not finish on its own: retry
-- or acknowledge a dead letter, resolve an order whose outcome at the venue was
-- unknown with what the exchange says, ask for a working order to be cancelled. Each
-- action is a function that checks the order may take it, does it in one
-- transaction, and records who, when and why in tr_operator_actions.
BEGIN;

-- Operators are people: their own role, so the worker's rights stay what the worker
-- needs and every action names the login that took it. Cluster-wide, made only where
-- absent, like the other module roles.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tr_operator') THEN
        CREATE ROLE tr_operator NOLOGIN;
    END IF;
END
$$;
COMMENT ON ROLE tr_operator IS
    'Trader operators: read everything tr_inspector reads, and take the operator actions (retry, acknowledge, resolve, cancel, schedule jobs). Grant it to people''s login roles.';
GRANT tr_inspector TO tr_operator;

CREATE TABLE tr_operator_actions (
    id       text PRIMARY KEY DEFAULT tr_ulid(),
    action   text NOT NULL CHECK (action IN ('retry', 'acknowledge', 'resolve', 'cancel', 'schedule_jobs')),
    order_id text,
    actor    text NOT NULL DEFAULT session_user,
    reason   text NOT NULL CHECK (btrim(reason) <> ''),
    details  jsonb NOT NULL DEFAULT '{}',
    at       timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX tr_operator_actions_order ON tr_operator_actions (order_id, action);

COMMENT ON TABLE tr_operator_actions IS
    'The audit trail of operator actions: who took which action on which order, when and why, with what the order was before. Never updated; no foreign key, so the trail outlives purged orders.';
COMMENT ON COLUMN tr_operator_actions.actor IS 'The login that took the action (session_user, not the SECURITY DEFINER owner), unless the caller named someone.';
COMMENT ON COLUMN tr_operator_actions.reason IS 'Why, in the operator''s words (--why): required, it is what the next operator reads.';
COMMENT ON COLUMN tr_operator_actions.details IS
    'What the action changed: the order''s previous status, reason, detail, attempts and last error; the fills of a resolution; failed_at, which ties an acknowledgement to one failure.';

-- The order an action names, locked the way reports lock (its position first, then
-- the order), with the reason the action needs checked.
CREATE FUNCTION tr_assert_operator_order(p_order_id text, p_why text)
RETURNS tr_inbox
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    i tr_inbox;
BEGIN
    IF coalesce(btrim(p_why), '') = '' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'an operator action needs a reason',
            HINT = 'Say why (--why ''...''): it is kept in tr_operator_actions for the next operator.';
    END IF;
    PERFORM 1 FROM tr_positions p WHERE p.symbol = (SELECT x.symbol FROM tr_inbox x WHERE x.id = p_order_id) FOR UPDATE;
    SELECT * INTO i FROM tr_inbox WHERE id = p_order_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format('no order %s', left(coalesce(p_order_id, 'NULL'), 128)),
            HINT = 'Name an order id of tr_inbox; trader orders dead-letters lists the dead letters.';
    END IF;
    RETURN i;
END
$$;

COMMENT ON FUNCTION tr_assert_operator_order(text, text) IS
    'The order an operator action names, locked (position first, then the order); raises P0002 for an unknown order and 22023 for a missing reason.';

CREATE FUNCTION tr_record_operator_action(p_action text, i tr_inbox, p_why text, p_actor text, p_details jsonb, p_now timestamptz)
RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, public, pg_temp
AS $$
    INSERT INTO tr_operator_actions (action, order_id, actor, reason, details, at)
    VALUES (p_action, i.id, coalesce(p_actor, session_user::text), p_why,
            jsonb_build_object('previous', jsonb_build_object('status', i.status, 'reason', i.reason, 'detail', i.detail,
                                                             'attempts', i.claim_count, 'last_error', i.last_error,
                                                             'venue', i.venue),
                               'failed_at', i.updated_at)
            || CASE WHEN p_actor IS DISTINCT FROM session_user::text AND p_actor IS NOT NULL
                    THEN jsonb_build_object('session_user', session_user) ELSE '{}' END
            || coalesce(p_details, '{}'),
            p_now)
    RETURNING id
$$;

COMMENT ON FUNCTION tr_record_operator_action(text, tr_inbox, text, text, jsonb, timestamptz) IS
    'Appends an action to tr_operator_actions with the order as it was before; the login is kept beside an actor the caller named. Returns the action id.';

-- Only an order that never reached a venue goes back to pending: one that may be at
-- its venue would be sent twice.
CREATE FUNCTION tr_retry_order(p_order_id text, p_why text, p_actor text DEFAULT NULL, p_now timestamptz DEFAULT clock_timestamp())
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    i tr_inbox := tr_assert_operator_order(p_order_id, p_why);
    v_action text;
BEGIN
    IF NOT (i.status = 'failed' AND i.reason = 'PROCESSING_ERROR' AND i.claim_count > 0 AND i.submit_intent_at IS NULL
            AND i.venue_order_id IS NULL AND i.filled_qty = 0) THEN
        RAISE EXCEPTION USING ERRCODE = '55000',
            MESSAGE = format('order %s cannot be retried: it is %s (%s), not a dead letter that never reached a venue',
                             i.id, i.status, coalesce(i.reason, 'no reason')),
            HINT = 'Only a PROCESSING_ERROR dead letter that was never sent is retried. Resolve an UNKNOWN_AT_VENUE order with trader orders resolve; acknowledge one you give up on.';
    END IF;
    v_action := tr_record_operator_action('retry', i, p_why, p_actor, NULL, p_now);
    UPDATE tr_inbox
       SET state = 'pending', status = 'received', reason = NULL, detail = NULL, claim_count = 0, last_error = NULL,
           venue = NULL, arrival_px = NULL, arrival_source = NULL, lease_owner = NULL, lease_expires_at = NULL,
           updated_at = p_now
     WHERE id = i.id;
    RETURN v_action;
END
$$;

COMMENT ON FUNCTION tr_retry_order(text, text, text, timestamptz) IS
    'Operator: a PROCESSING_ERROR dead letter that never reached a venue goes back to pending with its attempts reset (the last error is kept in the audit). Raises 55000 for any other order. Returns the action id.';

CREATE FUNCTION tr_acknowledge_order(p_order_id text, p_why text, p_actor text DEFAULT NULL, p_now timestamptz DEFAULT clock_timestamp())
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    i tr_inbox := tr_assert_operator_order(p_order_id, p_why);
BEGIN
    IF i.reason = 'UNKNOWN_AT_VENUE' AND i.status = 'failed' THEN
        RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('order %s may be at venue %s: it is resolved, not acknowledged', i.id, i.venue),
            HINT = 'Check it at the exchange and say what it has: trader orders resolve ID --filled|--cancelled|--never-placed.';
    ELSIF NOT EXISTS (SELECT FROM tr_dead_letters d WHERE d.order_id = i.id) THEN
        RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('order %s is not a dead letter (%s, %s)', i.id, i.status, coalesce(i.reason, 'no reason')),
            HINT = 'trader orders dead-letters lists the dead letters; one acknowledged already is no longer listed.';
    END IF;
    RETURN tr_record_operator_action('acknowledge', i, p_why, p_actor, NULL, p_now);
END
$$;

COMMENT ON FUNCTION tr_acknowledge_order(text, text, text, timestamptz) IS
    'Operator: a PROCESSING_ERROR dead letter stays failed and leaves tr_dead_letters; the acknowledgement holds for this failure only (a retried order that fails again is listed again). Returns the action id.';

-- The fills an operator gives, as a report carries them; ts is required to be
-- readable here, where a report would default it to now.
CREATE FUNCTION tr_assert_operator_fills(p_fills jsonb, p_now timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF jsonb_typeof(coalesce(p_fills, '[]')) <> 'array'
       OR EXISTS (SELECT FROM jsonb_array_elements(coalesce(p_fills, '[]')) f
                   WHERE jsonb_typeof(f) <> 'object' OR (f ? 'ts' AND tr_json_timestamp(f->'ts') IS NULL)) THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('fills are not usable: %s', left(p_fills::text, 200)),
            HINT = 'Fills are [{fill_id, px, qty, fee, ts}] (--fill fill_id:px:qty[:fee[:ts]]), ts in ISO 8601.';
    END IF;
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('fee', 0, 'ts', p_now) || f) FROM jsonb_array_elements(p_fills) f), '[]');
END
$$;

COMMENT ON FUNCTION tr_assert_operator_fills(jsonb, timestamptz) IS
    'An operator''s fills as a report carries them (fee 0 and ts now when absent); raises 22023 for fills that are not an array of objects or a ts that cannot be read.';

-- An order failed UNKNOWN_AT_VENUE is final, and reports never change a final status;
-- the resolution reopens it (to working, this order and reason only) inside its own
-- transaction, then reports what the exchange says through the batch report, so
-- positions, strands and quality follow as for any report and the Decision Maker
-- sees one status change.
CREATE FUNCTION tr_resolve_order(p_order_id text, p_outcome text, p_fills jsonb, p_why text, p_actor text DEFAULT NULL,
                                 p_now timestamptz DEFAULT clock_timestamp())
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    i        tr_inbox := tr_assert_operator_order(p_order_id, p_why);
    v_fills  jsonb := tr_assert_operator_fills(p_fills, p_now);
    v_action text;
    v_after  tr_inbox;
BEGIN
    IF NOT (i.status = 'failed' AND i.reason = 'UNKNOWN_AT_VENUE') THEN
        RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('order %s is %s (%s), not failed UNKNOWN_AT_VENUE', i.id, i.status, coalesce(i.reason, 'no reason')),
            HINT = 'Only an order whose outcome at the venue was unknown is resolved; trader orders dead-letters lists them.';
    ELSIF p_outcome IS NULL OR p_outcome NOT IN ('filled', 'cancelled', 'never_placed') THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('unknown outcome %s', coalesce(quote_literal(left(p_outcome, 64)), 'NULL')),
            HINT = 'The outcome is what the exchange says: filled (with its fills), cancelled (perhaps with partial fills) or never_placed.';
    ELSIF (p_outcome = 'filled') <> (jsonb_array_length(v_fills) > 0) AND p_outcome <> 'cancelled' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('a %s order %s fills', p_outcome, CASE p_outcome WHEN 'filled' THEN 'needs its' ELSE 'cannot have' END),
            HINT = 'Give the exchange''s fills with --fill fill_id:px:qty[:fee[:ts]] for filled (or a partly filled cancel), none for never placed.';
    END IF;
    v_action := tr_record_operator_action('resolve', i, p_why, p_actor, jsonb_build_object('outcome', p_outcome, 'fills', v_fills), p_now);
    UPDATE tr_inbox SET status = 'working', reason = NULL
     WHERE id = i.id AND status = 'failed' AND reason = 'UNKNOWN_AT_VENUE';
    PERFORM tr_report_execution(i.id, jsonb_build_object(
        'status', CASE p_outcome WHEN 'never_placed' THEN 'failed' ELSE p_outcome END,
        'reason', CASE p_outcome WHEN 'never_placed' THEN 'NEVER_PLACED' END,
        'detail', format('resolved by %s: %s', coalesce(p_actor, session_user::text), left(p_why, 1000)),
        'fills', v_fills));
    SELECT * INTO v_after FROM tr_inbox WHERE id = i.id;
    IF (p_outcome = 'filled') <> (v_after.filled_qty = coalesce(v_after.order_qty, v_after.qty)) THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = format('order %s: fills add up to %s of %s, which is not %s', i.id, v_after.filled_qty,
                             coalesce(v_after.order_qty, v_after.qty), CASE p_outcome WHEN 'filled' THEN 'filled' ELSE 'a cancel' END),
            HINT = 'A filled order''s fills add up to its quantity; a cancelled one''s to less. Nothing was recorded.';
    END IF;
    RETURN v_action;
END
$$;

COMMENT ON FUNCTION tr_resolve_order(text, text, jsonb, text, text, timestamptz) IS
    'Operator: an order failed UNKNOWN_AT_VENUE becomes what the exchange says (filled with its fills, cancelled perhaps with partial fills, or failed NEVER_PLACED), reported through tr_report_executions. Raises and records nothing when the outcome and fills disagree. Returns the action id.';

CREATE FUNCTION tr_request_cancel(p_order_id text, p_why text, p_actor text DEFAULT NULL, p_now timestamptz DEFAULT clock_timestamp())
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    i tr_inbox := tr_assert_operator_order(p_order_id, p_why);
BEGIN
    IF i.state <> 'working' THEN
        RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('order %s is not working at a venue (%s, %s)', i.id, i.state, i.status),
            HINT = 'Only an order resting at a venue is cancelled there; a final order is done, and a pending one is rejected by its risk state (trading_state halted).';
    ELSIF EXISTS (SELECT FROM tr_operator_actions a WHERE a.order_id = i.id AND a.action = 'cancel') THEN
        RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('a cancel of order %s was already requested', i.id),
            HINT = 'The worker cancels it at its next poll of the venue (tr_orders_to_cancel lists it).';
    END IF;
    RETURN tr_record_operator_action('cancel', i, p_why, p_actor, NULL, p_now);
END
$$;

COMMENT ON FUNCTION tr_request_cancel(text, text, text, timestamptz) IS
    'Operator: asks for an order working at a venue to be cancelled; tr_orders_to_cancel lists it with CANCELLED_BY_OPERATOR and the worker cancels and reports it. Returns the action id.';

-- The worker cancels what this returns: now the orders an operator asked to cancel,
-- besides those of halted symbols.
CREATE OR REPLACE FUNCTION tr_orders_to_cancel()
RETURNS TABLE (order_id text, symbol text, reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT i.id, i.symbol,
               CASE WHEN EXISTS (SELECT FROM tr_operator_actions a WHERE a.order_id = i.id AND a.action = 'cancel')
                    THEN 'CANCELLED_BY_OPERATOR' ELSE 'TRADING_HALTED' END
          FROM tr_inbox i
         WHERE i.state = 'working'
           AND (EXISTS (SELECT FROM tr_operator_actions a WHERE a.order_id = i.id AND a.action = 'cancel')
                OR (tr_effective_risk(i.symbol)).trading_state = 'halted')
         ORDER BY i.created_at;
END
$$;

COMMENT ON FUNCTION tr_orders_to_cancel() IS
    'Orders working at a venue that an operator asked to cancel (CANCELLED_BY_OPERATOR) or whose symbol is now halted (TRADING_HALTED): the worker cancels and reports them.';

-- Same columns as before, then what to do; an acknowledged failure leaves the list.
CREATE OR REPLACE VIEW tr_dead_letters AS
SELECT i.id AS order_id, i.source, i.symbol, i.venue, i.reason, i.claim_count AS attempts, i.last_error, i.detail,
       i.created_at, i.updated_at AS failed_at,
       CASE i.reason WHEN 'UNKNOWN_AT_VENUE' THEN 'check it at the exchange, then trader orders resolve'
                     ELSE 'trader orders retry, or trader orders acknowledge' END AS next_step
  FROM tr_inbox i
 WHERE i.status = 'failed' AND i.reason IN ('PROCESSING_ERROR', 'UNKNOWN_AT_VENUE') AND i.claim_count > 0
   AND NOT EXISTS (SELECT FROM tr_operator_actions a
                    WHERE a.order_id = i.id AND a.action = 'acknowledge' AND (a.details->>'failed_at')::timestamptz = i.updated_at)
 ORDER BY i.updated_at DESC;

COMMENT ON VIEW tr_dead_letters IS
    'Orders that failed because their handling kept failing (PROCESSING_ERROR) or because an order that may be at a venue could not be reconciled (UNKNOWN_AT_VENUE), with attempts, the last error and the operator''s next step; acknowledged ones are left out.';

REVOKE EXECUTE ON FUNCTION tr_assert_operator_order(text, text),
                           tr_record_operator_action(text, tr_inbox, text, text, jsonb, timestamptz),
                           tr_assert_operator_fills(jsonb, timestamptz),
                           tr_retry_order(text, text, text, timestamptz), tr_acknowledge_order(text, text, text, timestamptz),
                           tr_resolve_order(text, text, jsonb, text, text, timestamptz),
                           tr_request_cancel(text, text, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_retry_order(text, text, text, timestamptz), tr_acknowledge_order(text, text, text, timestamptz),
                          tr_resolve_order(text, text, jsonb, text, text, timestamptz),
                          tr_request_cancel(text, text, text, timestamptz) TO tr_operator;
GRANT SELECT ON tr_operator_actions TO tr_worker, tr_inspector;

COMMIT;
