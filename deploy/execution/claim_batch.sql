-- Deploy trader:execution/claim_batch
-- The worker's first stage in one round trip: the claim, the pre-trade check and the
-- curation context of a batch. Orders with a committed intent get neither check nor
-- context: their venue must be asked first (the worker reconciles them).
BEGIN;

-- force_generic_plan, for every statement the call runs, nested functions included:
-- PL/pgSQL makes a custom plan again on every call while the generic one looks
-- dearer, and planning cost more than running (tr_report_problem: 0.2 ms a report
-- planned each time, 0.07 ms generic). Their statements go by key on small batches.
-- Plans are generic and made once per session; made while the tables are still
-- small (a fresh deployment) they would scan whole tables for a few ids until the
-- next ANALYZE. Index access is right at any size, so it is required.
CREATE FUNCTION tr_claim_batch(p_worker text, p_batch_size integer, p_venues text[] DEFAULT NULL)
RETURNS TABLE (id text, source text, symbol text, side text, qty numeric, order_type text, limit_px numeric, tif text,
               requested_venue text, lifecycle_id text, timeframe text, regime text, signal_strength numeric,
               claim_count integer, venue text, submit_intent_at timestamptz, curation jsonb, created_at timestamptz,
               check_reason text, check_detail text, context jsonb)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    v_claimed text[];
    v_fresh   text[];
    v_checks  jsonb;
BEGIN
    SELECT array_agg(c.id), array_agg(c.id) FILTER (WHERE c.submit_intent_at IS NULL) INTO v_claimed, v_fresh
      FROM tr_claim_orders(p_worker, p_batch_size, NULL, clock_timestamp(), p_venues) c;
    IF v_claimed IS NULL THEN
        RETURN;
    END IF;
    SELECT jsonb_object_agg(k.order_id, jsonb_build_array(k.reason, k.detail)) INTO v_checks
      FROM tr_pre_trade_check(coalesce(v_fresh, '{}')) k;
    RETURN QUERY
        SELECT i.id, i.source, i.symbol, i.side, i.qty, i.order_type, i.limit_px, i.tif, i.requested_venue,
               i.lifecycle_id, i.timeframe, i.regime, i.signal_strength, i.claim_count, i.venue, i.submit_intent_at,
               i.curation, i.created_at, v_checks->i.id->>0, v_checks->i.id->>1, x.context
          FROM tr_inbox i
          LEFT JOIN tr_curation_context(ARRAY(SELECT k.key FROM jsonb_each(v_checks) k WHERE k.value->>0 = 'OK')) x
                 ON x.order_id = i.id
         WHERE i.id = ANY (v_claimed)
         ORDER BY i.created_at, i.id;
END
$$;

COMMENT ON FUNCTION tr_claim_batch(text, integer, text[]) IS
    'Claims a batch (tr_claim_orders) and returns each order with its pre-trade check (check_reason OK or a reason code) and, for those that pass, its curation context; orders with a committed intent come without either, to be reconciled first.';

REVOKE EXECUTE ON FUNCTION tr_claim_batch(text, integer, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_claim_batch(text, integer, text[]) TO tr_worker;

COMMIT;
