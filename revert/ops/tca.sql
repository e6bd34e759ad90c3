-- Revert trader:ops/tca from pg
-- Everything this change made lives in the Trader's own objects; md_strand is left as it was.
BEGIN;

DROP VIEW tr_tca_prediction_error, tr_tca_summary, tr_tca_orders;
DROP FUNCTION tr_tca_prediction_rows(timestamptz, timestamptz), tr_tca_summary_rows(timestamptz, timestamptz),
              tr_tca_order_rows(timestamptz, timestamptz, interval), tr_tca_quotes(text[], timestamptz),
              tr_tca_size_bucket(numeric), tr_tca_shortfall(text, numeric, numeric, numeric, numeric, numeric, numeric),
              tr_tca_markout_bps(text, numeric, numeric), tr_tca_sign(text);
DROP INDEX tr_unapplied_input_strand, tr_inbox_tca;

COMMIT;
