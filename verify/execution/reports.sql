-- Verify trader:execution/reports
-- A report whose order_qty is not positive is refused, not let through to the CHECK.
BEGIN;
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES ('verify-oq', 'decision', 'verify-oq', 'VX', '{"side": "buy", "qty": 2}');
SELECT 1 / count(*) FROM tr_parse_reports('[{"order_id": "verify-oq", "report": {"status": "working", "order_qty": -1}}]')
 WHERE problem LIKE 'order_qty %';
ROLLBACK;
