-- Deploy trader:execution/reports
-- What a venue did with orders, recorded for a whole batch in the caller's one
-- transaction: fills become rows keyed by (order, fill id), so a fill counts once by
-- construction; the orders' typed state moves; positions take the new fills in the
-- venue's order; and the Decision Maker's view (execution and fill strands) is
-- written from that typed state, never the other way round. A crash anywhere leaves
-- nothing half-written, and a replayed report changes nothing.
BEGIN;

CREATE TABLE tr_fills (
    order_id    text NOT NULL REFERENCES tr_inbox (id),
    fill_id     text NOT NULL CHECK (length(fill_id) BETWEEN 1 AND 128),
    px          numeric NOT NULL CHECK (px > 0),
    qty         numeric NOT NULL CHECK (qty > 0),
    fee         numeric NOT NULL,
    fee_charged jsonb,
    ts          timestamptz NOT NULL,
    venue       text NOT NULL,
    strand_id   text NOT NULL,
    PRIMARY KEY (order_id, fill_id)
);

COMMENT ON TABLE tr_fills IS 'Every fill of every order, once: the key (order, fill id) is what makes a fill reported twice count once.';
COMMENT ON COLUMN tr_fills.fill_id IS 'The venue''s trade id.';
COMMENT ON COLUMN tr_fills.fee IS 'In the quote currency; negative is a rebate.';
COMMENT ON COLUMN tr_fills.fee_charged IS 'The fee as the venue charged it, in its own currency, when that differs: {cost, currency}.';
COMMENT ON COLUMN tr_fills.strand_id IS 'The fill strand written for it in tr_strand.';

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

-- Positive is cost: a buy above the reference, a sell below it.
CREATE FUNCTION tr_slippage_bps(p_side text, p_avg_px numeric, p_ref_px numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT round(CASE p_side WHEN 'buy' THEN 1 ELSE -1 END * (p_avg_px - p_ref_px) / p_ref_px * 10000, 4)
     WHERE p_ref_px > 0
$$;

COMMENT ON FUNCTION tr_slippage_bps(text, numeric, numeric) IS 'side x (avg_px - ref_px) / ref_px x 10^4: positive is cost; NULL without a reference.';

-- A timestamp from JSON: ISO 8601 text, or epoch milliseconds; NULL for anything else.
CREATE FUNCTION tr_json_timestamp(p_value jsonb)
RETURNS timestamptz
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF jsonb_typeof(p_value) = 'number' AND p_value::numeric BETWEEN 0 AND 1e14 THEN
        RETURN to_timestamp(p_value::numeric / 1000);
    ELSIF jsonb_typeof(p_value) = 'string' AND length(p_value #>> '{}') <= 64 THEN
        RETURN (p_value #>> '{}')::timestamptz;
    END IF;
    RETURN NULL;
EXCEPTION WHEN data_exception THEN
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION tr_json_timestamp(jsonb) IS 'ISO 8601 text or epoch milliseconds as timestamptz; NULL for anything else. Never raises.';

-- One reported fill, typed, or the problem with it.
CREATE FUNCTION tr_parse_fill(p_fill jsonb,
    OUT fill_id text, OUT px numeric, OUT qty numeric, OUT fee numeric, OUT fee_charged jsonb, OUT ts timestamptz,
    OUT problem text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v record;
BEGIN
    fill_id := p_fill->>'fill_id';
    IF coalesce(jsonb_typeof(p_fill->'fill_id'), 'null') NOT IN ('string', 'number') OR btrim(fill_id) = '' OR length(fill_id) > 128 THEN
        problem := format('a fill has no usable fill_id (1 to 128 characters): %s', left(p_fill::text, 200)); RETURN;
    END IF;
    v := tr_parse_quantity(p_fill, 'qty');
    qty := v.value;
    problem := coalesce(v.problem, CASE WHEN v.value IS NULL THEN 'qty: missing' END);
    v := tr_parse_quantity(p_fill, 'px');
    px := v.value;
    problem := coalesce(problem, v.problem, CASE WHEN v.value IS NULL THEN 'px: missing' END);
    fee := coalesce(tr_json_numeric(p_fill->'fee'), 0);
    IF coalesce(jsonb_typeof(p_fill->'fee'), 'null') <> 'null' AND tr_json_numeric(p_fill->'fee') IS NULL OR abs(fee) >= 1e12 THEN
        problem := coalesce(problem, format('fee: must be a finite number, got %s', left((p_fill->'fee')::text, 64)));
    END IF;
    ts := coalesce(tr_json_timestamp(p_fill->'ts'), clock_timestamp());
    fee_charged := CASE WHEN jsonb_typeof(p_fill->'fee_charged') = 'object' THEN p_fill->'fee_charged' END;
    IF problem IS NOT NULL THEN
        problem := format('fill %s: %s', fill_id, problem);
    END IF;
END
$$;

COMMENT ON FUNCTION tr_parse_fill(jsonb) IS
    'A reported fill {fill_id, px, qty, fee, ts, fee_charged} typed: px and qty positive below 10^12 with at most 8 decimal places, fee finite (0 when absent), ts ISO 8601 or epoch ms (now when absent); or the problem with it. Never raises.';

CREATE TYPE tr_report AS (
    order_id       text,
    status         tr_order_status,
    reason         text,
    detail         text,
    venue          text,
    venue_order_id text,
    order_qty      numeric,
    submitted_at   timestamptz,
    curation       jsonb,
    fills          jsonb,
    problem        text,
    problem_state  text
);

COMMENT ON TYPE tr_report IS
    'A venue report typed: the order''s new status and facts, its new fills (typed, not yet recorded), or the problem that keeps it from being recorded and its SQLSTATE.';

-- The checks of one report against its order, first problem first. Fill problems
-- and fill totals come from tr_parse_reports, which sees every fill of the batch.
CREATE FUNCTION tr_report_problem(i tr_inbox, p_report jsonb, p_status text, p_order_qty numeric,
                                  p_fill_problem text, p_new_qty numeric, OUT problem text, OUT problem_state text)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
        SELECT x.problem, CASE WHEN x.problem IS NULL THEN NULL WHEN i.id IS NULL THEN 'P0002'
                               WHEN x.problem LIKE 'already %' THEN '55000' ELSE '22023' END
          INTO problem, problem_state
          FROM (SELECT CASE
            WHEN i.id IS NULL THEN 'report for unknown order'
            WHEN jsonb_typeof(p_report) IS DISTINCT FROM 'object' THEN 'the report is not a JSON object'
            WHEN p_status IS NULL OR p_status NOT IN (SELECT status::text FROM public.tr_statuses WHERE status <> 'received')
                THEN format('unknown status %s', coalesce(quote_literal(left(p_status, 64)), 'NULL'))
            WHEN p_status IN ('rejected', 'failed') AND NOT EXISTS (SELECT FROM public.tr_reason_codes WHERE code = p_report->>'reason')
                THEN format('a %s report needs a reason code from tr_reason_codes, got %s', p_status,
                            coalesce(quote_literal(left(p_report->>'reason', 64)), 'NULL'))
            WHEN coalesce(jsonb_typeof(p_report->'fills'), 'null') NOT IN ('array', 'null') THEN 'fills is not an array'
            WHEN length(p_report->>'venue') > 64 OR length(p_report->>'venue_order_id') > 128
                THEN 'venue (64) or venue_order_id (128) is too long'
            WHEN p_report ? 'order_qty' AND (p_order_qty IS NULL OR p_order_qty > i.qty)
                THEN format('order_qty %s is not in (0, %s]', left((p_report->'order_qty')::text, 64), i.qty)
            WHEN public.tr_status_is_final(i.status) AND i.status::text <> p_status
                THEN format('already %s; it cannot become %s', i.status, p_status)
            WHEN p_new_qty IS NOT NULL AND (i.side IS NULL OR i.qty IS NULL)
                THEN 'fills for an order whose order_spec has no valid side and qty'
            WHEN p_fill_problem IS NOT NULL THEN p_fill_problem
            WHEN i.filled_qty + coalesce(p_new_qty, 0) > coalesce(p_order_qty, i.order_qty, i.qty)
                THEN format('would be filled %s of %s ordered', i.filled_qty + p_new_qty, coalesce(p_order_qty, i.order_qty, i.qty))
            END AS problem) x;
END
$$;

COMMENT ON FUNCTION tr_report_problem(tr_inbox, jsonb, text, numeric, text, numeric) IS
    'Why a report cannot be recorded for its order (NULL when it can), with its SQLSTATE: P0002 unknown order, 55000 a final status changing, 22023 anything else.';

-- A batch of {order_id, report} typed at once. Within the batch the last report of an
-- order wins and its fills are the union of the batch's; a fill already recorded with
-- the same price and quantity counts once, with others it is a contradiction.
CREATE FUNCTION tr_parse_reports(p_reports jsonb)
RETURNS SETOF tr_report
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        WITH raw AS (
            SELECT DISTINCT ON (x.value->>'order_id') x.value->>'order_id' AS order_id, x.value->'report' AS report
              FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_reports) = 'array' THEN p_reports ELSE '[]' END)
                   WITH ORDINALITY x(value, n)
             ORDER BY x.value->>'order_id', x.n DESC
        ), fills AS (
            SELECT DISTINCT ON (f.order_id, p.fill_id) f.order_id, p.*, k.known IS NOT NULL AS known,
                   k.px IS DISTINCT FROM p.px OR k.qty IS DISTINCT FROM p.qty AS differs
              FROM (SELECT x.value->>'order_id' AS order_id, e.fill
                      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_reports) = 'array' THEN p_reports ELSE '[]' END) x,
                           jsonb_array_elements(CASE WHEN jsonb_typeof(x.value->'report'->'fills') = 'array'
                                                     THEN x.value->'report'->'fills' ELSE '[]' END) e(fill)) f
             CROSS JOIN LATERAL tr_parse_fill(f.fill) p
             -- LIMIT keeps this a probe of the key per fill: as a plain join the planner,
             -- blind to the batch's size, hashes the whole of tr_fills.
              LEFT JOIN LATERAL (SELECT true AS known, k.px, k.qty FROM tr_fills k
                                  WHERE k.order_id = f.order_id AND k.fill_id = p.fill_id LIMIT 1) k ON true
             ORDER BY f.order_id, p.fill_id
        ), per_order AS (
            SELECT order_id,
                   (array_agg(problem) FILTER (WHERE problem IS NOT NULL))[1] AS bad,
                   (array_agg(format('fill %s reported again with another price or quantity', fill_id))
                      FILTER (WHERE known AND differs))[1] AS contradiction,
                   sum(qty) FILTER (WHERE NOT known) AS new_qty,
                   coalesce(jsonb_agg(jsonb_build_object('fill_id', fill_id, 'px', px, 'qty', qty, 'fee', fee,
                                                         'fee_charged', fee_charged, 'ts', ts) ORDER BY ts, fill_id)
                            FILTER (WHERE NOT known AND problem IS NULL), '[]') AS new_fills
              FROM fills GROUP BY order_id
        )
        SELECT r.order_id, CASE WHEN c.problem IS NULL THEN (r.report->>'status')::tr_order_status END,
               r.report->>'reason', left(r.report->>'detail', 2000), nullif(btrim(r.report->>'venue'), ''),
               r.report->>'venue_order_id', tr_json_numeric(r.report->'order_qty'), tr_json_timestamp(r.report->'submitted_at'),
               jsonb_strip_nulls(jsonb_build_object('tr_predict', r.report->'tr_predict', 'lesson_metadata', r.report->'lesson_metadata')),
               coalesce(f.new_fills, '[]'), c.problem, c.problem_state
          FROM raw r
          LEFT JOIN tr_inbox i ON i.id = r.order_id
          LEFT JOIN per_order f ON f.order_id = r.order_id
         CROSS JOIN LATERAL tr_report_problem(i, r.report, r.report->>'status', tr_json_numeric(r.report->'order_qty'),
                                              coalesce(f.bad, f.contradiction), f.new_qty) c;
END
$$;

COMMENT ON FUNCTION tr_parse_reports(jsonb) IS
    'Types a batch [{order_id, report}] against the orders: status, reason, venue, order_qty, the fills not yet recorded, or the problem (tr_report_problem). Never raises.';

-- The typed state of the reported orders, moved in one statement: status and facts
-- from the report, totals from the new fills, the arrival price fixed by the first
-- report (the order's ref_px, else the quote's mark).
CREATE FUNCTION tr_apply_reports(p_reports tr_report[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
        UPDATE tr_inbox i
           SET status         = r.status,
               reason         = CASE WHEN r.status IN ('rejected', 'failed') OR r.reason IN (SELECT code FROM tr_reason_codes)
                                     THEN r.reason ELSE i.reason END,
               detail         = coalesce(r.detail, i.detail),
               venue          = coalesce(r.venue, i.venue, i.requested_venue),
               venue_order_id = coalesce(r.venue_order_id, i.venue_order_id),
               order_qty      = coalesce(r.order_qty, i.order_qty, i.qty),
               submitted_at   = coalesce(r.submitted_at, i.submitted_at),
               curation       = CASE WHEN r.curation = '{}' THEN i.curation ELSE coalesce(i.curation, '{}') || r.curation END,
               filled_qty     = i.filled_qty + f.qty,
               fill_value     = i.fill_value + f.value,
               fees           = i.fees + f.fees,
               last_fill_at   = greatest(i.last_fill_at, f.last_ts),
               arrival_px     = coalesce(i.arrival_px, i.ref_px, (SELECT q.mark FROM tr_quotes q WHERE q.symbol = i.symbol)),
               arrival_source = coalesce(i.arrival_source, CASE WHEN i.ref_px IS NOT NULL THEN 'order' END,
                                         (SELECT 'quote' FROM tr_quotes q WHERE q.symbol = i.symbol)),
               execution_id   = coalesce(i.execution_id, tr_ulid()),
               state          = CASE WHEN tr_status_is_final(r.status) THEN 'done' ELSE 'working' END,
               lease_owner    = NULL,
               lease_expires_at = NULL,
               updated_at     = clock_timestamp()
          FROM unnest(p_reports) r
         CROSS JOIN LATERAL (SELECT coalesce(sum(x.qty), 0) AS qty, coalesce(sum(x.qty * x.px), 0) AS value,
                                    coalesce(sum(x.fee), 0) AS fees, max(x.ts) AS last_ts
                               FROM jsonb_to_recordset(r.fills) x(qty numeric, px numeric, fee numeric, ts timestamptz)) f
         WHERE i.id = r.order_id;
END
$$;

COMMENT ON FUNCTION tr_apply_reports(tr_report[]) IS
    'Moves the typed state of each reported order: status, reason, venue, quantities, fill totals, fees, arrival price, work-item state (done when final, else working without a lease).';

CREATE FUNCTION tr_exec_metrics(i tr_inbox)
RETURNS jsonb
LANGUAGE sql STABLE
AS $$
    SELECT jsonb_build_object(
        'status', i.status, 'venue', coalesce(i.venue, 'none'), 'requested_qty', i.qty, 'order_qty', i.order_qty,
        'filled_qty', i.filled_qty, 'avg_px', i.avg_px,
        'slip_real_bps', CASE WHEN i.filled_qty > 0 THEN public.tr_slippage_bps(i.side, i.fill_value / i.filled_qty, i.arrival_px) END,
        'latency_ms', CASE WHEN i.filled_qty > 0 AND i.submitted_at IS NOT NULL
                           THEN greatest(0, round(extract(epoch FROM i.last_fill_at - i.submitted_at) * 1000)) END,
        'fees', i.fees, 'client_order_id', i.id, 'venue_order_id', i.venue_order_id, 'submitted_at', i.submitted_at,
        'ref_px', i.arrival_px, 'ref_source', i.arrival_source, 'reason', i.reason, 'detail', i.detail)
$$;

COMMENT ON FUNCTION tr_exec_metrics(tr_inbox) IS
    'The exec_metrics of an order''s execution strand, from its typed state: status, venue, quantities, avg_px, slippage against the arrival price, latency from submission to the last fill, fees, ids, reason.';

-- A fill as the Decision Maker reads it in a report.
CREATE FUNCTION tr_fill_json(f tr_fills)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
AS $$
    SELECT jsonb_build_object('fill_id', f.fill_id, 'px', f.px, 'qty', f.qty, 'fee', f.fee, 'ts', f.ts, 'venue', f.venue)
           || jsonb_strip_nulls(jsonb_build_object('fee_charged', f.fee_charged))
$$;

COMMENT ON FUNCTION tr_fill_json(tr_fills) IS 'A fill as reports carry it: {fill_id, px, qty, fee, ts, venue}, and fee_charged when the venue charged another currency.';

-- The Decision Maker's view of orders, written from their typed state: one execution
-- strand per order, created or kept current in place (the routing trigger notifies
-- when it appears and when its status changes), and one fill strand per new fill.
CREATE FUNCTION tr_publish_executions(p_order_ids text[])
RETURNS TABLE (order_id text, execution_id text)
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH published AS (
        INSERT INTO tr_strand AS s (id, lifecycle_id, parent_id, kind, symbol, timeframe, session_bucket, regime, decision_id,
                                    order_spec, route_hint, tr_predict, fills, exec_metrics, position_data, lesson_metadata,
                                    tags, created_at, updated_at)
        SELECT i.execution_id, i.lifecycle_id, i.source_id, 'execution', i.symbol, i.timeframe, i.session_bucket, i.regime,
               i.id, i.order_spec, coalesce(i.venue, 'none'), i.curation->'tr_predict',
               coalesce((SELECT jsonb_agg(tr_fill_json(f) ORDER BY f.ts, f.fill_id) FROM tr_fills f WHERE f.order_id = i.id), '[]'),
               tr_exec_metrics(i), tr_position_json(p), coalesce(i.curation->'lesson_metadata', '{}'),
               ARRAY['dm:execution_report'], clock_timestamp(), clock_timestamp()
          FROM tr_inbox i
          LEFT JOIN tr_positions p ON p.symbol = i.symbol
         WHERE i.id = ANY (p_order_ids) AND i.execution_id IS NOT NULL
         ORDER BY i.id
        ON CONFLICT (id) DO UPDATE
           SET route_hint = EXCLUDED.route_hint, tr_predict = EXCLUDED.tr_predict, fills = EXCLUDED.fills,
               exec_metrics = EXCLUDED.exec_metrics, position_data = EXCLUDED.position_data,
               lesson_metadata = EXCLUDED.lesson_metadata, updated_at = EXCLUDED.updated_at
        RETURNING s.decision_id, s.id)
        SELECT * FROM published;
END
$$;

COMMENT ON FUNCTION tr_publish_executions(text[]) IS
    'Writes or refreshes the execution strand of each order named from its typed state (fills from tr_fills, exec_metrics from tr_exec_metrics, the position after it); returns (order_id, execution_id).';

CREATE FUNCTION tr_publish_fills(p_fills tr_fills[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
        INSERT INTO tr_strand (id, lifecycle_id, parent_id, kind, symbol, timeframe, session_bucket, regime, decision_id,
                               route_hint, fills, exec_metrics, tags)
        SELECT f.strand_id, i.lifecycle_id, i.execution_id, 'fill', i.symbol, i.timeframe, i.session_bucket, i.regime, i.id,
               f.venue, jsonb_build_array(tr_fill_json(f)),
               jsonb_build_object('status', 'filled', 'venue', f.venue, 'fill_id', f.fill_id, 'px', f.px, 'qty', f.qty,
                                  'fee', f.fee, 'client_order_id', i.id),
               '{}'
          FROM unnest(p_fills) f JOIN tr_inbox i ON i.id = f.order_id;
END
$$;

COMMENT ON FUNCTION tr_publish_fills(tr_fills[]) IS 'One fill strand per fill given, for the record (parent: the order''s execution strand).';

-- Execution quality, once the order is final and something filled; a late fill refreshes it.
CREATE FUNCTION tr_record_execution_quality(p_order_ids text[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
        INSERT INTO tr_execution_performance AS p (execution_id, venue, symbol, execution_score, slippage_bps, latency_ms, lesson_metadata)
        SELECT i.execution_id, coalesce(i.venue, 'none'), i.symbol,
               tr_execution_score((m->>'slip_real_bps')::numeric, (m->>'latency_ms')::numeric, i.filled_qty / i.order_qty),
               greatest(-9999.9999, least(9999.9999, coalesce((m->>'slip_real_bps')::numeric, 0))),
               least(coalesce((m->>'latency_ms')::numeric, 0), 2147483647),
               coalesce(i.curation->'lesson_metadata', '{}')
          FROM tr_inbox i CROSS JOIN LATERAL tr_exec_metrics(i) m
         WHERE i.id = ANY (p_order_ids) AND tr_status_is_final(i.status) AND i.filled_qty > 0
         ORDER BY i.execution_id
        ON CONFLICT (execution_id) DO UPDATE
           SET execution_score = EXCLUDED.execution_score, slippage_bps = EXCLUDED.slippage_bps,
               latency_ms = EXCLUDED.latency_ms, lesson_metadata = EXCLUDED.lesson_metadata;
END
$$;

COMMENT ON FUNCTION tr_record_execution_quality(text[]) IS
    'Writes or refreshes the tr_execution_performance row of each final order named that filled something.';

-- A report that cannot be recorded as given: an unknown order or a final status that
-- would change are left alone and recorded as unapplied input; anything else fails
-- the order with INVALID_VENUE_REPORT and the problem as its detail.
CREATE FUNCTION tr_report_or_failure(r tr_report)
RETURNS tr_report
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN r.problem IS NULL THEN r
                ELSE ROW(r.order_id, 'failed', 'INVALID_VENUE_REPORT', left(r.problem, 2000), r.venue, r.venue_order_id,
                         NULL, r.submitted_at, r.curation, '[]'::jsonb, NULL, NULL)::public.tr_report END
$$;

COMMENT ON FUNCTION tr_report_or_failure(tr_report) IS 'The report itself, or for one with a problem a failed report with reason INVALID_VENUE_REPORT and the problem as detail.';

-- The worker's one call per batch. Locks in the one order used everywhere (positions
-- by symbol, then orders by id), so concurrent batches never deadlock; fills reach
-- each position one by one in the venue's order, everything else is set-based.
-- force_generic_plan, for every statement the call runs, nested functions included:
-- PL/pgSQL makes a custom plan again on every call while the generic one looks
-- dearer, and planning cost more than running (tr_report_problem: 0.2 ms a report
-- planned each time, 0.07 ms generic). Their statements go by key on small batches.
-- Plans are generic and made once per session; made while the tables are still
-- small (a fresh deployment) they would scan whole tables for a few ids until the
-- next ANALYZE. Index access is right at any size, so it is required.
CREATE FUNCTION tr_report_executions(p_reports jsonb)
RETURNS TABLE (order_id text, execution_id text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
#variable_conflict use_column
DECLARE
    v_ids     text[];
    v_filled  text[];
    v_reports tr_report[];
    v_fills   tr_fills[];
    f         tr_fills;
BEGIN
    SELECT array_agg(DISTINCT x->>'order_id'),
           array_agg(DISTINCT x->>'order_id') FILTER (WHERE jsonb_typeof(x->'report'->'fills') = 'array'
                                                        AND jsonb_array_length(x->'report'->'fills') > 0)
      INTO v_ids, v_filled
      FROM jsonb_array_elements(CASE WHEN jsonb_typeof(p_reports) = 'array' THEN p_reports ELSE '[]' END) x
     WHERE x->>'order_id' IS NOT NULL;
    -- A report without fills touches no position but may resize a monitor, so existing
    -- positions are locked all the same: the position first, everywhere.
    INSERT INTO tr_positions (symbol, quantity, avg_price, unrealized_pnl, realized_pnl)
    SELECT DISTINCT i.symbol, 0, 0, 0, 0 FROM tr_inbox i WHERE i.id = ANY (v_filled) AND i.side IS NOT NULL ORDER BY 1
    ON CONFLICT (symbol) DO NOTHING;
    PERFORM 1 FROM tr_positions p WHERE p.symbol IN (SELECT i.symbol FROM tr_inbox i WHERE i.id = ANY (v_ids))
     ORDER BY p.symbol FOR UPDATE;
    PERFORM 1 FROM tr_inbox i WHERE i.id = ANY (v_ids) ORDER BY i.id FOR UPDATE;

    v_reports := ARRAY(SELECT r FROM tr_parse_reports(p_reports) r);
    PERFORM tr_record_unapplied('report', left(coalesce(r.order_id, 'NULL'), 128), NULL, 'INVALID_VENUE_REPORT',
                                r.problem, NULL)
       FROM unnest(v_reports) r WHERE r.problem_state IN ('P0002', '55000');
    v_reports := ARRAY(SELECT tr_report_or_failure(r) FROM unnest(v_reports) r
                        WHERE r.problem_state IS DISTINCT FROM 'P0002' AND r.problem_state IS DISTINCT FROM '55000');

    WITH recorded AS (
        INSERT INTO tr_fills (order_id, fill_id, px, qty, fee, fee_charged, ts, venue, strand_id)
        SELECT r.order_id, x.fill_id, x.px, x.qty, x.fee, x.fee_charged, x.ts,
               coalesce(r.venue, i.venue, i.requested_venue, 'none'), tr_ulid()
          FROM unnest(v_reports) r JOIN tr_inbox i ON i.id = r.order_id,
               jsonb_to_recordset(r.fills) x(fill_id text, px numeric, qty numeric, fee numeric, fee_charged jsonb, ts timestamptz)
        RETURNING *)
    SELECT array_agg(recorded) INTO v_fills FROM recorded;
    FOR f IN SELECT x.* FROM unnest(v_fills) x JOIN tr_inbox i ON i.id = x.order_id ORDER BY i.symbol, x.ts, x.fill_id LOOP
        PERFORM tr_apply_fill(i.symbol, i.side, f.qty, f.px, f.fee, f.order_id, f.ts) FROM tr_inbox i WHERE i.id = f.order_id;
    END LOOP;

    PERFORM tr_apply_reports(v_reports);
    RETURN QUERY SELECT * FROM tr_publish_executions(ARRAY(SELECT r.order_id FROM unnest(v_reports) r));
    PERFORM tr_publish_fills(v_fills);
    PERFORM tr_record_execution_quality(ARRAY(SELECT r.order_id FROM unnest(v_reports) r));
END
$$;

COMMENT ON FUNCTION tr_report_executions(jsonb) IS
    'Records a batch of venue reports [{order_id, report}] in one transaction: new fills (once each by fill id) applied to positions in order, the orders'' typed state, their execution and fill strands, execution quality. A report it cannot accept fails its order (INVALID_VENUE_REPORT) or, for an unknown order or a final status that would change, is recorded in tr_unapplied_input. Never raises on a report''s content. Returns (order_id, execution_id).';

-- The call for one report, as people and tests make it: a report that cannot be
-- recorded raises, with its SQLSTATE, instead of failing the order.
CREATE FUNCTION tr_report_execution(p_order_id text, p_report jsonb)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_batch jsonb := jsonb_build_array(jsonb_build_object('order_id', p_order_id, 'report', p_report));
    r       tr_report;
BEGIN
    SELECT * INTO r FROM tr_parse_reports(v_batch);
    IF r.problem IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = r.problem_state,
            MESSAGE = format('report for order %s refused: %s', left(coalesce(p_order_id, 'NULL'), 128), r.problem),
            HINT = CASE r.problem_state
                WHEN 'P0002' THEN 'Report with the id of a work item in tr_inbox, as tr_claim_orders returned it.'
                WHEN '55000' THEN 'Final statuses (filled, cancelled, rejected, failed) do not change; a late fill is reported with the same final status.'
                ELSE 'A report is {status, venue, venue_order_id, fills: [{fill_id, px, qty, fee, ts}], submitted_at, order_qty, tr_predict, lesson_metadata, reason, detail}; see tr_reason_codes for reasons.' END;
    END IF;
    RETURN (SELECT x.execution_id FROM tr_report_executions(v_batch) x);
END
$$;

COMMENT ON FUNCTION tr_report_execution(text, jsonb) IS
    'Records one venue report for an order (tr_report_executions); raises 22023, 55000 or P0002 with a hint when the report cannot be recorded. Returns the execution strand id.';

-- A rejection or failure without fills can always be recorded, whatever the order
-- spec said: nothing in it is read.
CREATE FUNCTION tr_reject_decision(p_order_id text, p_reason_code text, p_detail text DEFAULT NULL)
RETURNS text
LANGUAGE sql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT tr_report_execution(p_order_id, jsonb_build_object('status', 'rejected', 'reason', p_reason_code, 'detail', p_detail))
$$;

COMMENT ON FUNCTION tr_reject_decision(text, text, text) IS
    'Records a rejected execution strand for an order, with a stable reason code (tr_reason_codes) and a detail for people. Returns the execution strand id.';

REVOKE EXECUTE ON FUNCTION tr_execution_score(numeric, numeric, numeric), tr_slippage_bps(text, numeric, numeric),
                           tr_json_timestamp(jsonb), tr_parse_fill(jsonb),
                           tr_report_problem(tr_inbox, jsonb, text, numeric, text, numeric), tr_parse_reports(jsonb),
                           tr_apply_reports(tr_report[]), tr_exec_metrics(tr_inbox), tr_publish_executions(text[]),
                           tr_publish_fills(tr_fills[]), tr_fill_json(tr_fills), tr_record_execution_quality(text[]), tr_report_or_failure(tr_report),
                           tr_report_executions(jsonb), tr_report_execution(text, jsonb),
                           tr_reject_decision(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_report_executions(jsonb), tr_report_execution(text, jsonb), tr_reject_decision(text, text, text) TO tr_worker;
GRANT SELECT ON tr_fills TO tr_worker, tr_inspector;

COMMIT;
