-- Deploy trader:execution/exchange_rules to pg
-- Real exchanges refuse orders off their lot step and outside their limits: the worker
-- applies those rules before sending and says which one an order broke. A fee charged
-- in a third currency is converted at the exchange's price; when no price can be had
-- the fill counts it 0 in the quote currency and is marked, so that operators see it.
BEGIN;

INSERT INTO tr_reason_codes (code, applies, stage, meaning) VALUES
    ('BELOW_MIN_QTY',      'order', 'venue', 'the quantity, rounded down to the exchange''s lot step, is below the exchange''s minimum quantity (or rounds to zero); not sent'),
    ('BELOW_MIN_NOTIONAL', 'order', 'venue', 'quantity x price (the limit price on the tick, or for a market order the exchange''s last price) is below the exchange''s minimum notional; not sent'),
    ('ABOVE_MAX_QTY',      'order', 'venue', 'the quantity, rounded down to the exchange''s lot step, is above the exchange''s maximum quantity; not sent');

CREATE VIEW tr_unconverted_fees AS
SELECT f.order_id, f.fill_id, f.venue, i.symbol, f.ts,
       tr_json_numeric(f.fee_charged->'cost') AS cost, f.fee_charged->>'currency' AS currency
  FROM tr_fills f
  JOIN tr_inbox i ON i.id = f.order_id
 WHERE f.fee_charged @> '{"unconverted": true}';

COMMENT ON VIEW tr_unconverted_fees IS
    'Fills whose fee was charged in a currency the venue could not price in the quote currency: their fee counts 0 in tr_fills.fee and in PnL; cost and currency are the fee as charged.';
COMMENT ON COLUMN tr_unconverted_fees.cost IS 'The fee as the venue charged it, in currency.';
COMMENT ON COLUMN tr_unconverted_fees.currency IS 'The currency the fee was charged in, which could not be priced in the quote currency.';

CREATE FUNCTION tr_health_fees()
RETURNS TABLE (status text, value text, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
    SELECT CASE WHEN count(*) > 0 THEN 'degraded' ELSE 'ok' END, count(*)::text,
           CASE WHEN count(*) > 0
                THEN format('%s fills carry a fee in %s that could not be priced in the quote currency: it counts 0 in fees and PnL; see tr_unconverted_fees',
                            count(*), string_agg(DISTINCT currency, ', '))
                ELSE 'every fee is counted in the quote currency' END
      FROM tr_unconverted_fees
$$;

COMMENT ON FUNCTION tr_health_fees() IS
    'The verdict of the unconverted-fees check: degraded while any fill''s fee could not be priced in the quote currency (tr_unconverted_fees), with what it means.';

REVOKE EXECUTE ON FUNCTION tr_health_fees() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tr_health_fees() TO tr_worker, tr_inspector, tr_operator;
GRANT SELECT ON tr_unconverted_fees TO tr_worker, tr_inspector, tr_operator;

COMMIT;
