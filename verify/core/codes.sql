-- Verify trader:core/codes
BEGIN;
-- Every status has its row, and exactly the four report outcomes are final.
SELECT 1 / (count(*) = 7 AND count(*) FILTER (WHERE final) = 4)::int
  FROM unnest(enum_range(NULL::tr_order_status)) e JOIN tr_statuses s ON s.status = e;
SELECT 1 / (tr_status_is_final('failed') AND NOT tr_status_is_final('working'))::int;
SELECT 1 / count(*) FROM tr_reason_codes WHERE code = 'PROCESSING_ERROR';
ROLLBACK;
