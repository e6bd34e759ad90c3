-- Deploy trader:tr_report_execution
-- The one entry point the worker calls after talking to a venue. Everything a report
-- implies (the execution strand, fill strands, positions, execution quality, the work
-- item's state) is written in the caller's one transaction, so a crash anywhere
-- leaves nothing half-written, and a replayed report changes nothing.
BEGIN;

CREATE UNIQUE INDEX tr_strand_one_execution_per_order ON tr_strand (decision_id) WHERE kind = 'execution';
COMMENT ON INDEX tr_strand_one_execution_per_order IS 'Addition: an order never gets a second execution strand.';
CREATE UNIQUE INDEX tr_execution_performance_execution ON tr_execution_performance (execution_id);
COMMENT ON INDEX tr_execution_performance_execution IS 'Addition: one quality row per execution, refreshed by later fills.';

-- execution_score in [0, 1]:
--   0.5 x slippage score  (1 at 0 bps or better, falling linearly to 0 at 50 bps of cost)
-- + 0.2 x latency score   (1 at 0 ms, falling linearly to 0 at 5000 ms)
-- + 0.3 x fill ratio      (filled / ordered)
-- A slippage or latency that could not be measured scores a neutral 0.5.
CREATE FUNCTION tr_execution_score(p_slip_bps numeric, p_latency_ms numeric, p_fill_ratio numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT round(
             0.5 * CASE WHEN p_slip_bps IS NULL THEN 0.5 ELSE greatest(0, least(1, 1 - greatest(p_slip_bps, 0) / 50)) END
           + 0.2 * CASE WHEN p_latency_ms IS NULL THEN 0.5 ELSE greatest(0, least(1, 1 - p_latency_ms / 5000)) END
           + 0.3 * greatest(0, least(1, coalesce(p_fill_ratio, 0))), 4)
$$;

COMMENT ON FUNCTION tr_execution_score(numeric, numeric, numeric) IS
    'Execution quality in [0, 1]: 0.5 x slippage score (1 at <= 0 bps, 0 at >= 50 bps cost) + 0.2 x latency score (1 at 0 ms, 0 at >= 5 s) + 0.3 x fill ratio; an unmeasured slippage or latency scores 0.5.';

-- A timestamp from JSON: ISO 8601 text, or epoch milliseconds. Raises on anything else
-- (reports come from the worker, which must send valid ones).
CREATE FUNCTION tr_json_timestamp(p_value jsonb)
RETURNS timestamptz
LANGUAGE sql STABLE
AS $$
    SELECT CASE jsonb_typeof(p_value)
        WHEN 'number' THEN to_timestamp(p_value::numeric / 1000)
        WHEN 'string' THEN (p_value #>> '{}')::timestamptz
    END
$$;

COMMENT ON FUNCTION tr_json_timestamp(jsonb) IS 'ISO 8601 text or epoch milliseconds as timestamptz; NULL for JSON null.';

CREATE FUNCTION tr_report_execution(p_order_id text, p_report jsonb)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    c_statuses CONSTANT text[] := ARRAY['working', 'partially_filled', 'filled', 'cancelled', 'rejected', 'failed'];
    c_final    CONSTANT text[] := ARRAY['filled', 'cancelled', 'rejected', 'failed'];
    v_status    text := p_report->>'status';
    v_reason    text := p_report->>'reason';
    v_item      tr_inbox;
    v_exec      tr_strand;
    v_old       jsonb;            -- the execution strand's exec_metrics before this report
    v_side      text;
    v_requested numeric;
    v_order_qty numeric;
    v_venue     text;
    v_fill      jsonb;
    v_known     jsonb := '{}';    -- fill_id -> fill, recorded ones first
    v_new       jsonb := '[]';    -- fills this report adds
    v_all       jsonb;
    v_pos       tr_positions;
    v_filled    numeric;
    v_value     numeric;
    v_fees      numeric;
    v_last_fill timestamptz;
    v_submitted timestamptz;
    v_avg       numeric;
    v_ref       numeric;
    v_ref_src   text;
    v_slip      numeric;
    v_latency   numeric;
    v_metrics   jsonb;
    v_px        numeric;
    v_qty       numeric;
    v_fee       numeric;
    v_ts        timestamptz;
BEGIN
    -- 1. The report itself.
    IF jsonb_typeof(p_report) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('report for order %s is not a JSON object', p_order_id),
            HINT = 'A report is {status, venue, venue_order_id, fills, submitted_at, tr_predict, lesson_metadata, reason}.';
    END IF;
    IF v_status IS NULL OR NOT v_status = ANY (c_statuses) THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('report for order %s has unknown status %s', p_order_id, coalesce(quote_literal(v_status), 'NULL')),
            HINT = 'Status is one of working, partially_filled, filled, cancelled, rejected, failed.';
    END IF;
    IF v_status IN ('rejected', 'failed') AND coalesce(v_reason, '') !~ '^[A-Z][A-Z0-9_]*$' THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('a %s report for order %s needs a reason code, got %s', v_status, p_order_id, coalesce(quote_literal(v_reason), 'NULL')),
            HINT = 'Reason codes are stable upper-case words, e.g. INVALID_ORDER_SPEC, TRADING_HALTED, VENUE_ERROR.';
    END IF;
    IF coalesce(jsonb_typeof(p_report->'fills'), 'null') NOT IN ('array', 'null') THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('report for order %s: fills is not an array', p_order_id),
            HINT = 'fills is [{fill_id, px, qty, fee, ts}, ...].';
    END IF;

    -- 2. The order.
    SELECT * INTO v_item FROM tr_inbox WHERE id = p_order_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format('report for unknown order %s', coalesce(quote_literal(p_order_id), 'NULL')),
            HINT = 'Report with the id of a work item in tr_inbox, as tr_claim_orders returned it.';
    END IF;
    v_side := v_item.order_spec->>'side';
    v_requested := tr_json_numeric(v_item.order_spec->'qty');
    v_order_qty := coalesce(tr_json_numeric(p_report->'order_qty'), v_requested);
    IF p_report ? 'order_qty' AND (v_order_qty IS NULL OR v_order_qty <= 0 OR v_order_qty > v_requested) THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('order %s: order_qty %s is not in (0, %s]', p_order_id, p_report->'order_qty', v_requested),
            HINT = 'Curation may scale an order down, never up.';
    END IF;

    -- 3. Fills: each fill_id counts once; a venue contradicting itself is an error.
    IF jsonb_array_length(coalesce(p_report->'fills', '[]')) > 0 THEN
        IF v_side IS NULL OR v_side NOT IN ('buy', 'sell') OR v_order_qty IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('order %s has fills but its order_spec has no valid side and qty', p_order_id),
                HINT = 'Only a valid order can be filled; reject invalid ones with tr_reject_decision.';
        END IF;
        -- Locks in the one order used everywhere: position, (monitors,) inbox.
        INSERT INTO tr_positions (symbol, quantity, avg_price, unrealized_pnl, realized_pnl)
        VALUES (v_item.symbol, 0, 0, 0, 0) ON CONFLICT (symbol) DO NOTHING;
        PERFORM 1 FROM tr_positions WHERE symbol = v_item.symbol FOR UPDATE;
    ELSE
        -- No fills, but the report may still resize a monitor: the position comes first
        -- all the same (a symbol without a position has no monitors to touch).
        PERFORM 1 FROM tr_positions WHERE symbol = v_item.symbol FOR UPDATE;
    END IF;
    PERFORM 1 FROM tr_inbox WHERE id = p_order_id FOR UPDATE;

    SELECT * INTO v_exec FROM tr_strand WHERE decision_id = p_order_id AND kind = 'execution' FOR UPDATE;
    v_old := coalesce(v_exec.exec_metrics, '{}');
    IF v_old->>'status' = ANY (c_final) AND v_old->>'status' <> v_status THEN
        RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format('order %s is already %s; it cannot become %s', p_order_id, v_old->>'status', v_status),
            HINT = 'Final statuses (filled, cancelled, rejected, failed) do not change; a late fill is reported with the same final status.';
    END IF;
    v_venue := coalesce(nullif(btrim(p_report->>'venue'), ''), v_old->>'venue', v_item.order_spec->>'venue', 'none');

    SELECT coalesce(jsonb_object_agg(f->>'fill_id', f), '{}') INTO v_known
      FROM jsonb_array_elements(coalesce(v_exec.fills, '[]')) f;
    FOR v_fill IN SELECT f FROM jsonb_array_elements(coalesce(p_report->'fills', '[]')) f LOOP
        IF coalesce(jsonb_typeof(v_fill->'fill_id'), 'null') NOT IN ('string', 'number') OR btrim(v_fill->>'fill_id') = '' THEN
            RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('order %s: a fill has no fill_id: %s', p_order_id, v_fill),
                HINT = 'fill_id is the venue''s trade id; it makes a fill reported twice count once.';
        END IF;
        v_px := tr_json_numeric(v_fill->'px');
        v_qty := tr_json_numeric(v_fill->'qty');
        v_fee := coalesce(tr_json_numeric(v_fill->'fee'), 0);
        IF coalesce(jsonb_typeof(v_fill->'fee'), 'null') <> 'null' AND tr_json_numeric(v_fill->'fee') IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('order %s: fill %s has a fee that is not a number: %s', p_order_id, v_fill->>'fill_id', v_fill->'fee'),
                HINT = 'fee is a number in the quote currency; 0 for none.';
        END IF;
        PERFORM tr_check_fill(v_item.symbol, v_side, v_qty, v_px, v_fee);
        v_ts := coalesce(tr_json_timestamp(v_fill->'ts'), clock_timestamp());
        IF v_known ? (v_fill->>'fill_id') THEN
            IF (v_known->(v_fill->>'fill_id')->>'px')::numeric <> v_px OR (v_known->(v_fill->>'fill_id')->>'qty')::numeric <> v_qty THEN
                RAISE EXCEPTION USING ERRCODE = '22023',
                    MESSAGE = format('order %s: fill %s reported again with other values', p_order_id, v_fill->>'fill_id'),
                    DETAIL = format('recorded %s, now %s', v_known->(v_fill->>'fill_id'), v_fill),
                    HINT = 'A fill_id identifies one trade; its price and quantity cannot change.';
            END IF;
            CONTINUE;
        END IF;
        -- fee is in the quote currency; fee_charged keeps what the venue charged, in its currency.
        v_fill := jsonb_build_object('fill_id', v_fill->>'fill_id', 'px', v_px, 'qty', v_qty, 'fee', v_fee,
                                     'ts', v_ts, 'venue', v_venue)
                  || jsonb_strip_nulls(jsonb_build_object('fee_charged', v_fill->'fee_charged'));
        v_known := v_known || jsonb_build_object(v_fill->>'fill_id', v_fill);
        v_new := v_new || v_fill;
    END LOOP;

    v_all := coalesce(v_exec.fills, '[]') || v_new;
    SELECT coalesce(sum((f->>'qty')::numeric), 0), coalesce(sum((f->>'qty')::numeric * (f->>'px')::numeric), 0),
           coalesce(sum((f->>'fee')::numeric), 0), max((f->>'ts')::timestamptz)
      INTO v_filled, v_value, v_fees, v_last_fill
      FROM jsonb_array_elements(v_all) f;
    IF v_filled > v_order_qty THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('order %s would be filled %s of %s ordered', p_order_id, v_filled, v_order_qty),
            HINT = 'A venue never fills more than was ordered; check the fills reported.';
    END IF;

    -- 4. Positions, fill by fill in the venue's order.
    FOR v_fill IN SELECT f FROM jsonb_array_elements(v_new) f ORDER BY (f->>'ts')::timestamptz, f->>'fill_id' LOOP
        v_pos := tr_apply_fill(v_item.symbol, v_side, (v_fill->>'qty')::numeric, (v_fill->>'px')::numeric,
                               (v_fill->>'fee')::numeric, p_order_id, (v_fill->>'ts')::timestamptz);
    END LOOP;
    IF v_pos.id IS NULL THEN
        SELECT * INTO v_pos FROM tr_positions WHERE symbol = v_item.symbol;
    END IF;

    -- 5. Execution metrics. The reference price is fixed by the first report: the
    -- order's ref_px, else the quote's mark at that time.
    v_submitted := coalesce(tr_json_timestamp(p_report->'submitted_at'), (v_old->>'submitted_at')::timestamptz);
    v_ref := tr_json_numeric(v_old->'ref_px');
    v_ref_src := v_old->>'ref_source';
    IF v_ref IS NULL THEN
        v_ref := tr_json_numeric(v_item.order_spec->'ref_px');
        v_ref_src := 'order';
        IF v_ref IS NULL OR v_ref <= 0 THEN
            SELECT mark INTO v_ref FROM tr_quotes WHERE symbol = v_item.symbol;
            v_ref_src := CASE WHEN v_ref IS NULL THEN NULL ELSE 'quote' END;
        END IF;
    END IF;
    IF v_filled > 0 THEN
        v_avg := round(v_value / v_filled, 8);
        IF v_ref > 0 THEN
            -- Positive is cost: a buy above the reference, a sell below it.
            v_slip := round(CASE v_side WHEN 'buy' THEN 1 ELSE -1 END * (v_value / v_filled - v_ref) / v_ref * 10000, 4);
        END IF;
        IF v_submitted IS NOT NULL THEN
            v_latency := greatest(0, round(extract(epoch FROM v_last_fill - v_submitted) * 1000));
        END IF;
    END IF;
    v_metrics := jsonb_build_object(
        'status', v_status, 'venue', v_venue, 'requested_qty', v_requested, 'order_qty', v_order_qty,
        'filled_qty', v_filled, 'avg_px', v_avg, 'slip_real_bps', v_slip, 'latency_ms', v_latency,
        'fees', v_fees, 'client_order_id', p_order_id,
        'venue_order_id', coalesce(p_report->>'venue_order_id', v_old->>'venue_order_id'),
        'submitted_at', v_submitted, 'ref_px', v_ref, 'ref_source', v_ref_src,
        'reason', CASE WHEN v_status IN ('rejected', 'failed') THEN v_reason ELSE coalesce(v_reason, v_old->>'reason') END,
        'detail', coalesce(p_report->>'detail', v_old->>'detail'));

    -- 6. The execution strand, one per order, kept current in place.
    IF v_exec.id IS NULL THEN
        INSERT INTO tr_strand (lifecycle_id, parent_id, kind, symbol, timeframe, session_bucket, regime, decision_id,
                               order_spec, route_hint, tr_predict, fills, exec_metrics, position_data, lesson_metadata, tags,
                               created_at, updated_at)
        VALUES (v_item.lifecycle_id, v_item.source_id, 'execution', v_item.symbol, v_item.timeframe, v_item.session_bucket,
                v_item.regime, p_order_id, v_item.order_spec, v_venue, p_report->'tr_predict', v_all, v_metrics,
                tr_position_json(v_pos), coalesce(p_report->'lesson_metadata', '{}'), ARRAY['dm:execution_report'],
                clock_timestamp(), clock_timestamp())
        RETURNING * INTO v_exec;
    ELSE
        UPDATE tr_strand
           SET route_hint = v_venue,
               tr_predict = coalesce(p_report->'tr_predict', tr_predict),
               fills = v_all,
               exec_metrics = v_metrics,
               position_data = tr_position_json(v_pos),
               lesson_metadata = coalesce(p_report->'lesson_metadata', lesson_metadata),
               updated_at = clock_timestamp()
         WHERE id = v_exec.id
        RETURNING * INTO v_exec;
    END IF;

    -- 7. One fill strand per new fill, for the record.
    INSERT INTO tr_strand (lifecycle_id, parent_id, kind, symbol, timeframe, session_bucket, regime, decision_id,
                           route_hint, fills, exec_metrics, tags)
    SELECT v_item.lifecycle_id, v_exec.id, 'fill', v_item.symbol, v_item.timeframe, v_item.session_bucket, v_item.regime,
           p_order_id, v_venue, jsonb_build_array(f),
           jsonb_build_object('status', 'filled', 'venue', v_venue, 'fill_id', f->'fill_id', 'px', f->'px',
                              'qty', f->'qty', 'fee', f->'fee', 'client_order_id', p_order_id),
           '{}'
      FROM jsonb_array_elements(v_new) f;

    -- 8. Execution quality, once the order is final and something filled.
    IF v_status = ANY (c_final) AND v_filled > 0 THEN
        INSERT INTO tr_execution_performance AS p (execution_id, venue, symbol, execution_score, slippage_bps, latency_ms, lesson_metadata)
        VALUES (v_exec.id, v_venue, v_item.symbol,
                tr_execution_score(v_slip, v_latency, v_filled / v_order_qty),
                greatest(-9999.9999, least(9999.9999, coalesce(v_slip, 0))),
                least(coalesce(v_latency, 0), 2147483647),
                v_exec.lesson_metadata)
        ON CONFLICT (execution_id) DO UPDATE
           SET execution_score = EXCLUDED.execution_score, slippage_bps = EXCLUDED.slippage_bps,
               latency_ms = EXCLUDED.latency_ms, lesson_metadata = EXCLUDED.lesson_metadata;
    END IF;

    -- 9. The work item: done when final, else working at the venue (no lease).
    UPDATE tr_inbox
       SET state = CASE WHEN v_status = ANY (c_final) THEN 'done' ELSE 'working' END,
           lease_owner = NULL, lease_expires_at = NULL, updated_at = clock_timestamp()
     WHERE id = p_order_id;

    RETURN v_exec.id;
END
$$;

COMMENT ON FUNCTION tr_report_execution(text, jsonb) IS
    'Records what a venue did with an order: the execution strand (created or updated), fill strands, fills applied to the position, exec_metrics, execution quality, and the work item''s state. Idempotent per fill_id. Returns the execution strand id.';

CREATE FUNCTION tr_reject_decision(p_order_id text, p_reason_code text, p_detail text DEFAULT NULL)
RETURNS text
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT tr_report_execution(p_order_id, jsonb_build_object('status', 'rejected', 'reason', p_reason_code, 'detail', p_detail))
$$;

COMMENT ON FUNCTION tr_reject_decision(text, text, text) IS
    'Records a rejected execution strand for an order, with a stable reason code and a detail for people. Returns the execution strand id.';

REVOKE EXECUTE ON FUNCTION tr_execution_score(numeric, numeric, numeric), tr_json_timestamp(jsonb),
                           tr_report_execution(text, jsonb), tr_reject_decision(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_report_execution(text, jsonb), tr_reject_decision(text, text, text) TO tr_worker;

COMMIT;
