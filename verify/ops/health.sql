-- Verify trader:ops/health
-- The reworked health answers for the venue differences too.
BEGIN;
SELECT 1 / count(*) FROM tr_health() WHERE check_name = 'unconverted_fees';
SELECT 1 / count(*) FROM tr_health() WHERE check_name = 'venue_differences' AND status = 'ok';
INSERT INTO tr_venue_differences (venue, kind, subject, symbols, exchange_figure, trader_figure, accepted_offset, drift, first_seen_at, last_seen_at)
VALUES ('verify-venue', 'balance_drift', 'VER', ARRAY['VER-USD'], 2, 1, 0, 1, now(), now());
SELECT 1 / count(*) FROM tr_health() WHERE check_name = 'venue_differences' AND status = 'degraded'
   AND detail LIKE '%exchange 2, Trader 1%' AND detail LIKE '%trader venues acknowledge%';
ROLLBACK;
