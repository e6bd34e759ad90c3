-- Verify trader:ops/health
-- The reworked health answers for unconverted fees too.
BEGIN;
SELECT 1 / count(*) FROM tr_health() WHERE check_name = 'unconverted_fees' AND status = 'ok';
ROLLBACK;
