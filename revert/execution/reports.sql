-- Revert trader:execution/reports
-- Back to the report checks of @v0.2.0.
BEGIN;

-- The checks of one report against its order, first problem first. Fill problems
-- and fill totals come from tr_parse_reports, which sees every fill of the batch.
CREATE OR REPLACE FUNCTION tr_report_problem(i tr_inbox, p_report jsonb, p_status text, p_order_qty numeric,
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

COMMIT;
