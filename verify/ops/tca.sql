-- Verify trader:ops/tca on pg
-- The views answer, and the formulas give the hand-computed figures of docs/tca.md.
BEGIN;

SELECT order_id, arrival_px, arrival_slip_bps, shortfall, markout_1s_bps, latency_ms FROM tr_tca_orders WHERE false;
SELECT dimension, grp, fill_ratio, p99_latency_ms FROM tr_tca_summary WHERE false;
SELECT venue, mean_error_bps, mean_abs_error_bps FROM tr_tca_prediction_error WHERE false;

DO $$
BEGIN
    -- Buy 10 decided at arrival 100, 4 filled at 100.5 with 0.2 of fees, last mark 101.
    IF tr_tca_shortfall('buy', 100, 100.5, 4, 6, 0.2, 101) <> 8.2
       OR tr_tca_markout_bps('sell', 100, 99) <> 100 OR tr_tca_size_bucket(1000) <> '1k-10k' THEN
        RAISE EXCEPTION 'a TCA formula does not give the figures of the worked example in docs/tca.md';
    END IF;
END
$$;

ROLLBACK;
