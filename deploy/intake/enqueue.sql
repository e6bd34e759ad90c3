-- Deploy trader:intake/enqueue
-- A decision becomes an order in the Decision Maker's own transaction, and that
-- transaction never fails because of the Trader. A decision the Trader cannot use is
-- rejected right there, with its reason code: its report reaches the Decision Maker
-- without any worker running. An order whose handling keeps failing ends failed and
-- is reported too: nothing accepted waits forever.
BEGIN;

CREATE FUNCTION tr_enqueue_decision()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_problem text;
    v_reason  text;
    v_detail  text;
BEGIN
    IF NEW.id IS NULL OR length(NEW.id) > 2000 THEN
        -- Past any key's reach (a peer's table may not make id its key): no order and
        -- no report can name it.
        PERFORM tr_record_unapplied('dm_strand', coalesce(left(NEW.id, 128), 'NULL'), NULL, 'INVALID_ORDER_SPEC',
                                    'id: missing or longer than 2000 characters; no order can be made of it', NULL);
        RETURN NULL;
    END IF;
    v_problem := coalesce(tr_oversized_text(NEW.id, NEW.lifecycle_id, NEW.symbol, NEW.timeframe, NEW.session_bucket,
                                            NEW.regime, NEW.kind, NEW.module, NEW.tags),
                          CASE WHEN pg_column_size(NEW.order_spec) > 1048576 THEN 'order_spec: larger than 1 MB' END);
    INSERT INTO tr_inbox (id, source, source_id, lifecycle_id, symbol, timeframe, session_bucket, regime,
                          signal_strength, order_spec, reason, detail)
    VALUES (NEW.id, 'decision', NEW.id, tr_bounded(NEW.lifecycle_id, 128), tr_bounded(NEW.symbol, 64),
            tr_bounded(NEW.timeframe, 64), tr_bounded(NEW.session_bucket, 64), tr_bounded(NEW.regime, 64),
            NEW.signal_strength, CASE WHEN pg_column_size(NEW.order_spec) <= 1048576 THEN NEW.order_spec END,
            CASE WHEN v_problem IS NOT NULL THEN 'INVALID_ORDER_SPEC' END, v_problem)
    ON CONFLICT (id) DO NOTHING
    RETURNING reason, detail INTO v_reason, v_detail;
    IF v_reason IS NOT NULL THEN
        PERFORM tr_report_executions(jsonb_build_array(jsonb_build_object(
            'order_id', NEW.id, 'report', jsonb_build_object('status', 'rejected', 'reason', v_reason, 'detail', v_detail))));
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION tr_enqueue_decision() IS
    'Trigger on dm_strand: a row tagged trader:execute becomes an order in the same transaction, its order_spec parsed once; an unusable one is rejected there with its reason code and reported. Never raises.';
REVOKE EXECUTE ON FUNCTION tr_enqueue_decision() FROM PUBLIC;

CREATE TRIGGER tr_enqueue_decision
    AFTER INSERT OR UPDATE OF tags ON dm_strand
    FOR EACH ROW
    WHEN (NEW.tags @> ARRAY['trader:execute']::text[])
    EXECUTE FUNCTION tr_enqueue_decision();

-- Orders out of attempts are failed and reported. One never sent fails
-- PROCESSING_ERROR; one that may be at its venue had as many attempts again to be
-- reconciled, and then fails UNKNOWN_AT_VENUE for an operator: never sent blindly.
CREATE FUNCTION tr_exhaustion_report(i tr_inbox)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object('order_id', i.id, 'report', jsonb_build_object(
        'status', 'failed',
        'reason', CASE WHEN i.submit_intent_at IS NULL OR i.claim_count < 2 * public.tr_setting('inbox.max_attempts')::integer
                       THEN 'PROCESSING_ERROR' ELSE 'UNKNOWN_AT_VENUE' END,
        'detail', format('%s after %s attempts; last error: %s',
                         CASE WHEN i.submit_intent_at IS NULL OR i.claim_count < 2 * public.tr_setting('inbox.max_attempts')::integer
                              THEN 'not executed'
                              ELSE format('may be at venue %s and could not be reconciled (check it at the exchange)', i.venue) END,
                         i.claim_count, coalesce(left(i.last_error, 2000), 'none recorded (the worker holding it stopped)'))))
$$;

COMMENT ON FUNCTION tr_exhaustion_report(tr_inbox) IS
    'The failed report of an order out of attempts, as {order_id, report}: PROCESSING_ERROR, or UNKNOWN_AT_VENUE for one that may be at its venue and could not be reconciled; the last error in the detail.';

CREATE FUNCTION tr_fail_exhausted_orders(p_limit integer, p_now timestamptz DEFAULT clock_timestamp())
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_max     integer := tr_setting('inbox.max_attempts')::integer;
    v_reports jsonb;
BEGIN
    SELECT jsonb_agg(tr_exhaustion_report(x)) INTO v_reports
      FROM (SELECT i.* FROM tr_inbox i
             WHERE i.state IN ('pending', 'claimed') AND (i.state = 'pending' OR i.lease_expires_at <= p_now)
               AND i.claim_count >= v_max AND (i.submit_intent_at IS NULL OR i.claim_count >= 2 * v_max)
             ORDER BY i.created_at, i.id
             LIMIT p_limit
               FOR UPDATE SKIP LOCKED) x;
    IF v_reports IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM tr_report_executions(v_reports);
    RETURN jsonb_array_length(v_reports);
END
$$;

COMMENT ON FUNCTION tr_fail_exhausted_orders(integer, timestamptz) IS
    'Fails and reports up to p_limit orders out of attempts (inbox.max_attempts): PROCESSING_ERROR when never sent, UNKNOWN_AT_VENUE when sent but not reconciled in as many attempts again; the last error is in the detail. Returns how many.';

CREATE VIEW tr_dead_letters AS
SELECT i.id AS order_id, i.source, i.symbol, i.venue, i.reason, i.claim_count AS attempts, i.last_error, i.detail,
       i.created_at, i.updated_at AS failed_at
  FROM tr_inbox i
 WHERE i.status = 'failed' AND i.reason IN ('PROCESSING_ERROR', 'UNKNOWN_AT_VENUE') AND i.claim_count > 0
 ORDER BY i.updated_at DESC;

COMMENT ON VIEW tr_dead_letters IS
    'Orders that failed because their handling kept failing (PROCESSING_ERROR) or because an order that may be at a venue could not be reconciled (UNKNOWN_AT_VENUE), with attempts and the last error.';

REVOKE EXECUTE ON FUNCTION tr_fail_exhausted_orders(integer, timestamptz), tr_exhaustion_report(tr_inbox) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_fail_exhausted_orders(integer, timestamptz) TO tr_worker;
GRANT SELECT ON tr_dead_letters TO tr_worker, tr_inspector;

COMMIT;
