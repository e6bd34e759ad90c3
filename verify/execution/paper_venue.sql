-- Verify trader:execution/paper_venue
BEGIN;
SELECT venue, client_order_id, venue_order_id, symbol, side, qty, order_type, limit_px, tif, status, reason, fills,
       submitted_at, updated_at
  FROM tr_paper_orders WHERE false;
SELECT 1 / has_function_privilege('tr_worker', 'tr_paper_submit(text, jsonb)', 'execute')::int;
SELECT 1 / count(*) FROM pg_catalog.pg_trigger WHERE tgname = 'tr_paper_match_quote';
ROLLBACK;
