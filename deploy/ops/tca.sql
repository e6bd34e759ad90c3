-- Deploy trader:ops/tca to pg
-- Transaction cost analysis: what each order cost against the market at the moment
-- its decision arrived, and what the market did after its fills. Quote history is
-- read from md_strand (the Market Data module's rows), parsed once per query by
-- tr_parse_quote, so the analysis sees exactly the quotes the Trader accepted. The
-- lookups are set-based (one sort of quotes and order events per symbol), never a
-- function call per order. Definitions and a worked example: docs/tca.md.
BEGIN;

-- Orders with fills, by decision time: the one filter every report applies.
CREATE INDEX tr_inbox_tca ON tr_inbox (created_at) WHERE filled_qty > 0;
COMMENT ON INDEX tr_inbox_tca IS 'TCA reads the orders with fills of a time range without reading the whole inbox.';

-- Quotes the Trader refused are excluded by id; without this the exclusion reads the whole record per report.
CREATE INDEX tr_unapplied_input_strand ON tr_unapplied_input (strand_id);
COMMENT ON INDEX tr_unapplied_input_strand IS 'TCA leaves out the md_strand rows the Trader refused, looked up by strand id.';

CREATE FUNCTION tr_tca_sign(p_side text)
RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT CASE p_side WHEN 'buy' THEN 1 WHEN 'sell' THEN -1 END $$;
COMMENT ON FUNCTION tr_tca_sign(text) IS
    '+1 for a buy, -1 for a sell: every TCA formula multiplies by it so that one sign means cost for both sides. Inlined by the planner.';

CREATE FUNCTION tr_tca_markout_bps(p_side text, p_fill_px numeric, p_mid numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE
AS $$ SELECT tr_slippage_bps(p_side, p_mid, p_fill_px) $$;
COMMENT ON FUNCTION tr_tca_markout_bps(text, numeric, numeric) IS
    'Markout in bps: side x (later mid - fill price) / fill price x 10^4, the later mid''s slippage against the fill (tr_slippage_bps, one rule). Positive: the market moved the order''s way after the fill; negative: adverse selection (the fill was picked off).';

CREATE FUNCTION tr_tca_shortfall(p_side text, p_arrival numeric, p_avg_px numeric, p_filled numeric,
                                 p_unfilled numeric, p_fees numeric, p_last_mark numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE
AS $$
    SELECT tr_tca_sign(p_side) * (p_avg_px - p_arrival) * p_filled + p_fees
           + coalesce(tr_tca_sign(p_side) * (p_last_mark - p_arrival) * p_unfilled, 0)
$$;
COMMENT ON FUNCTION tr_tca_shortfall(text, numeric, numeric, numeric, numeric, numeric, numeric) IS
    'Implementation shortfall in quote currency: execution cost side x (avg - arrival) x filled + fees + opportunity cost side x (last mark - arrival) x unfilled (0 without a mark). Positive = cost.';

CREATE FUNCTION tr_tca_size_bucket(p_notional numeric)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN p_notional IS NULL THEN 'unknown' WHEN p_notional < 1000 THEN '<1k'
                WHEN p_notional < 10000 THEN '1k-10k' WHEN p_notional < 100000 THEN '10k-100k' ELSE '>=100k' END
$$;
COMMENT ON FUNCTION tr_tca_size_bucket(numeric) IS
    'Size bucket of an order by its ordered notional at arrival (qty x arrival), in quote units; unknown without an arrival price.';

-- Usable quotes of some symbols written since p_since, numbered in time order per
-- symbol so later lookups can carry a quote forward or backward by its number.
CREATE FUNCTION tr_tca_quotes(p_symbols text[], p_since timestamptz)
RETURNS TABLE (symbol text, quote_ts timestamptz, mark numeric, strand_id text, n bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT p.symbol, p.quote_ts, p.mark, m.id,
           row_number() OVER (PARTITION BY p.symbol ORDER BY p.quote_ts, m.id)
      FROM md_strand m
     CROSS JOIN LATERAL tr_parse_quote(m.symbol, m.market_data, m.created_at) p
     WHERE m.tags @> ARRAY['tr:market_update']
       AND (m.symbol = ANY (p_symbols || ''::text) OR m.symbol IS NULL)
       AND m.created_at >= p_since
       AND p.reason IS NULL AND p.symbol = ANY (p_symbols)
       AND NOT EXISTS (SELECT FROM tr_unapplied_input u WHERE u.strand_id = m.id AND u.source_table = 'md_strand')
$$;
COMMENT ON FUNCTION tr_tca_quotes(text[], timestamptz) IS
    'The quotes TCA may use: md_strand rows tagged tr:market_update written since p_since that tr_parse_quote accepts and the Trader did not record as unapplied (stale, out of range). Read by the row''s symbol column (or market_data.symbol when that is empty), so the (symbol, created_at) index serves it.';

-- One row per order with fills decided in [p_from, p_to). Quotes and order events of
-- a symbol are sorted once: at equal times quotes sort after fill horizons (a quote
-- at t + h counts as "at or after") and before decisions (a quote at the decision's
-- instant counts as "at or before").
CREATE FUNCTION tr_tca_order_rows(p_from timestamptz, p_to timestamptz, p_lookback interval DEFAULT '1 day')
RETURNS TABLE (order_id text, symbol text, venue text, side text, created_at timestamptz, hour_utc integer,
               qty numeric, order_qty numeric, filled_qty numeric, fill_ratio numeric, avg_px numeric, fees numeric,
               arrival_px numeric, arrival_source text, arrival_notional numeric, size_bucket text,
               arrival_slip_bps numeric, execution_cost numeric, opportunity_cost numeric, shortfall numeric,
               shortfall_bps numeric, last_mark numeric, markout_1s_bps numeric, markout_5s_bps numeric,
               markout_60s_bps numeric, submitted_at timestamptz, last_fill_at timestamptz, latency_ms numeric,
               predicted_slip_bps numeric, realized_slip_bps numeric)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
WITH o AS MATERIALIZED (
    SELECT i.* FROM tr_inbox i
     WHERE i.filled_qty > 0 AND i.created_at >= p_from AND i.created_at < p_to AND i.side IS NOT NULL
), q AS MATERIALIZED (
    SELECT * FROM tr_tca_quotes((SELECT array_agg(DISTINCT o.symbol) FROM o),
                                (SELECT min(o.created_at) FROM o) - p_lookback - tr_setting('quotes.max_clock_skew')::interval)
), ev AS (
    SELECT e.*, max(e.n) OVER (w ROWS UNBOUNDED PRECEDING) AS prev_n, min(e.n) OVER (w ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS next_n
      FROM (SELECT q.symbol, q.quote_ts AS t, 1 AS k, q.n, NULL::text AS order_id, NULL::int AS h, NULL::numeric AS px, NULL::numeric AS qty FROM q
            UNION ALL SELECT o.symbol, o.created_at, 2, NULL, o.id, NULL, NULL, NULL FROM o
            UNION ALL SELECT o.symbol, f.ts + make_interval(secs => h.h), 0, NULL, o.id, h.h, f.px, f.qty
                        FROM o JOIN tr_fills f ON f.order_id = o.id CROSS JOIN (VALUES (1), (5), (60)) h(h)) e
    WINDOW w AS (PARTITION BY e.symbol ORDER BY e.t, e.k)
), arr AS (
    SELECT ev.order_id, q.mark FROM ev JOIN q ON q.symbol = ev.symbol AND q.n = ev.prev_n
     WHERE ev.k = 2 AND q.quote_ts >= ev.t - p_lookback
), mk AS (
    SELECT ev.order_id,
           sum(ev.qty * tr_tca_markout_bps(o.side, ev.px, q.mark)) FILTER (WHERE ev.h = 1) / sum(ev.qty) FILTER (WHERE ev.h = 1) AS m1,
           sum(ev.qty * tr_tca_markout_bps(o.side, ev.px, q.mark)) FILTER (WHERE ev.h = 5) / sum(ev.qty) FILTER (WHERE ev.h = 5) AS m5,
           sum(ev.qty * tr_tca_markout_bps(o.side, ev.px, q.mark)) FILTER (WHERE ev.h = 60) / sum(ev.qty) FILTER (WHERE ev.h = 60) AS m60
      FROM ev JOIN o ON o.id = ev.order_id JOIN q ON q.symbol = ev.symbol AND q.n = ev.next_n
     WHERE ev.k = 0 AND q.quote_ts <= ev.t + interval '2 hours'
     GROUP BY ev.order_id
), x AS (
    SELECT o.*, coalesce(arr.mark, o.ref_px) AS arrival, CASE WHEN arr.mark IS NOT NULL THEN 'quote' WHEN o.ref_px IS NOT NULL THEN 'ref_px' END AS arr_source,
           o.qty - o.filled_qty AS unfilled, lq.mark AS last_mark, mk.m1, mk.m5, mk.m60, s.tr_predict, s.exec_metrics
      FROM o LEFT JOIN arr ON arr.order_id = o.id LEFT JOIN mk ON mk.order_id = o.id
      LEFT JOIN tr_quotes lq ON lq.symbol = o.symbol
      LEFT JOIN tr_strand s ON s.decision_id = o.id AND s.kind = 'execution'
)
SELECT x.id, x.symbol, coalesce(x.venue, 'none'), x.side, x.created_at, extract(hour FROM x.created_at AT TIME ZONE 'UTC')::int,
       x.qty, coalesce(x.order_qty, x.qty), x.filled_qty, round(x.filled_qty / coalesce(x.order_qty, x.qty), 4), x.avg_px, x.fees,
       x.arrival, x.arr_source, x.qty * x.arrival, tr_tca_size_bucket(x.qty * x.arrival),
       tr_slippage_bps(x.side, x.avg_px, x.arrival),
       tr_tca_sign(x.side) * (x.avg_px - x.arrival) * x.filled_qty,
       CASE WHEN x.arrival IS NOT NULL THEN coalesce(tr_tca_sign(x.side) * (x.last_mark - x.arrival) * x.unfilled, 0) END,
       tr_tca_shortfall(x.side, x.arrival, x.avg_px, x.filled_qty, x.unfilled, x.fees, x.last_mark),
       round(tr_tca_shortfall(x.side, x.arrival, x.avg_px, x.filled_qty, x.unfilled, x.fees, x.last_mark) / (x.qty * x.arrival) * 10000, 4),
       x.last_mark, round(x.m1, 4), round(x.m5, 4), round(x.m60, 4), x.submitted_at, x.last_fill_at,
       round(extract(epoch FROM x.last_fill_at - x.submitted_at) * 1000, 3),
       CASE WHEN jsonb_typeof(coalesce(x.tr_predict, x.curation->'tr_predict')->'slip_bps') = 'number'
            THEN (coalesce(x.tr_predict, x.curation->'tr_predict')->'slip_bps')::numeric END,
       CASE WHEN jsonb_typeof(x.exec_metrics->'slip_real_bps') = 'number' THEN (x.exec_metrics->'slip_real_bps')::numeric END
  FROM x
$$;
COMMENT ON FUNCTION tr_tca_order_rows(timestamptz, timestamptz, interval) IS
    'TCA per order with fills decided in [p_from, p_to): arrival price (latest usable quote''s mark at or before the decision and at most p_lookback old, else ref_px), arrival slippage, implementation shortfall, quantity-weighted markouts at 1 s, 5 s and 60 s (NULL when no quote came within 2 h after fill + h), fill ratio, latency, size bucket, UTC hour, curation''s predicted and the realized slippage. SECURITY DEFINER so readers need no right on the parsing functions it calls.';

CREATE VIEW tr_tca_orders AS SELECT * FROM tr_tca_order_rows('-infinity', 'infinity');
COMMENT ON VIEW tr_tca_orders IS
    'TCA for every order with fills (see tr_tca_order_rows; docs/tca.md). Bps are positive for cost except markouts, which are positive when the market moved the order''s way after its fills and negative under adverse selection. For a time range call tr_tca_order_rows(from, to): it reads only that range''s orders and quotes.';
COMMENT ON COLUMN tr_tca_orders.arrival_source IS 'quote (the mark of the latest usable quote at the decision) or ref_px (the decision''s own reference, when there was no quote); NULL: no arrival price, so no slippage nor shortfall.';
COMMENT ON COLUMN tr_tca_orders.qty IS 'The decision''s quantity: shortfall charges the opportunity cost of all of it that did not fill, including what curation did not send.';
COMMENT ON COLUMN tr_tca_orders.fill_ratio IS 'filled / order_qty (what was sent), as the execution quality views count it.';
COMMENT ON COLUMN tr_tca_orders.shortfall_bps IS 'Shortfall over the ordered notional at arrival (qty x arrival) x 10^4.';
COMMENT ON COLUMN tr_tca_orders.last_mark IS 'The symbol''s latest quote mark now (tr_quotes): the price the unfilled quantity is valued at; none means no opportunity cost.';

-- Aggregates. Means are over orders (each order one observation, as a trader reads
-- venue quality); fill ratio and shortfall bps are ratios of sums, so a large
-- order weighs by its size there. Percentiles are percentile_disc: an observed,
-- exact value, never an interpolated float.
CREATE FUNCTION tr_tca_summary_rows(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (dimension text, grp text, orders bigint, filled_qty numeric, fill_ratio numeric,
               mean_slip_bps numeric, p50_slip_bps numeric, p90_slip_bps numeric, p99_slip_bps numeric,
               shortfall numeric, shortfall_bps numeric, fees numeric,
               mean_markout_1s_bps numeric, mean_markout_5s_bps numeric, mean_markout_60s_bps numeric,
               p50_latency_ms numeric, p90_latency_ms numeric, p99_latency_ms numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT CASE WHEN GROUPING(t.venue) = 0 THEN 'venue' WHEN GROUPING(t.symbol) = 0 THEN 'symbol'
                WHEN GROUPING(t.size_bucket) = 0 THEN 'size_bucket' ELSE 'hour_utc' END,
           coalesce(t.venue, t.symbol, t.size_bucket, t.hour_utc::text),
           count(*), sum(t.filled_qty), round(sum(t.filled_qty) / sum(t.order_qty), 4),
           round(avg(t.arrival_slip_bps), 4),
           percentile_disc(0.5) WITHIN GROUP (ORDER BY t.arrival_slip_bps),
           percentile_disc(0.9) WITHIN GROUP (ORDER BY t.arrival_slip_bps),
           percentile_disc(0.99) WITHIN GROUP (ORDER BY t.arrival_slip_bps),
           sum(t.shortfall), round(sum(t.shortfall) / nullif(sum(t.arrival_notional) FILTER (WHERE t.shortfall IS NOT NULL), 0) * 10000, 4),
           sum(t.fees),
           round(avg(t.markout_1s_bps), 4), round(avg(t.markout_5s_bps), 4), round(avg(t.markout_60s_bps), 4),
           percentile_disc(0.5) WITHIN GROUP (ORDER BY t.latency_ms),
           percentile_disc(0.9) WITHIN GROUP (ORDER BY t.latency_ms),
           percentile_disc(0.99) WITHIN GROUP (ORDER BY t.latency_ms)
      FROM tr_tca_order_rows(p_from, p_to) t
     GROUP BY GROUPING SETS ((t.venue), (t.symbol), (t.size_bucket), (t.hour_utc))
     ORDER BY 1, 2
$$;
COMMENT ON FUNCTION tr_tca_summary_rows(timestamptz, timestamptz) IS
    'TCA of the orders decided in [p_from, p_to) grouped by venue, symbol, size bucket and UTC hour of the decision (the dimension column says which): fill ratio, arrival slippage mean and p50/p90/p99, shortfall, mean markouts, latency p50/p90/p99.';

CREATE VIEW tr_tca_summary AS SELECT * FROM tr_tca_summary_rows('-infinity', 'infinity');
COMMENT ON VIEW tr_tca_summary IS
    'TCA over all orders with fills, one row per (dimension, grp): dimension venue, symbol, size_bucket (<1k, 1k-10k, 10k-100k, >=100k quote units of notional at arrival, or unknown) or hour_utc. Slippage and shortfall positive = cost; markouts positive = the market moved the orders'' way, negative = adverse selection.';
COMMENT ON COLUMN tr_tca_summary.fill_ratio IS 'Sum filled over sum sent: a ratio of sums, so large orders weigh by their size.';
COMMENT ON COLUMN tr_tca_summary.shortfall_bps IS 'Sum of shortfall over the sum of ordered notional at arrival, x 10^4.';

CREATE FUNCTION tr_tca_prediction_rows(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (venue text, orders bigint, mean_predicted_bps numeric, mean_realized_bps numeric,
               mean_error_bps numeric, mean_abs_error_bps numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT t.venue, count(*), round(avg(t.predicted_slip_bps), 4), round(avg(t.realized_slip_bps), 4),
           round(avg(t.predicted_slip_bps - t.realized_slip_bps), 4),
           round(avg(abs(t.predicted_slip_bps - t.realized_slip_bps)), 4)
      FROM tr_tca_order_rows(p_from, p_to) t
     WHERE t.predicted_slip_bps IS NOT NULL AND t.realized_slip_bps IS NOT NULL
     GROUP BY t.venue
     ORDER BY t.venue
$$;
COMMENT ON FUNCTION tr_tca_prediction_rows(timestamptz, timestamptz) IS
    'How well curation predicted slippage, per venue, over orders decided in [p_from, p_to) that have both a prediction and a realized slippage.';

CREATE VIEW tr_tca_prediction_error AS SELECT * FROM tr_tca_prediction_rows('-infinity', 'infinity');
COMMENT ON VIEW tr_tca_prediction_error IS
    'Curation''s predicted slippage (tr_predict.slip_bps) against the realized one (exec_metrics.slip_real_bps, against the order''s ref_px or first mark) per venue. Error = predicted - realized: a positive mean error means the curators expect more cost than they get (too cautious), a negative one that they underestimate it.';

REVOKE EXECUTE ON FUNCTION tr_tca_quotes(text[], timestamptz), tr_tca_order_rows(timestamptz, timestamptz, interval),
                           tr_tca_summary_rows(timestamptz, timestamptz), tr_tca_prediction_rows(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_tca_order_rows(timestamptz, timestamptz, interval), tr_tca_summary_rows(timestamptz, timestamptz),
                          tr_tca_prediction_rows(timestamptz, timestamptz) TO tr_worker, tr_inspector;
GRANT SELECT ON tr_tca_orders, tr_tca_summary, tr_tca_prediction_error TO tr_worker, tr_inspector;

COMMIT;
