-- Tag routing, tested through the rule that computes the notifications (NOTIFY is
-- never delivered inside a test's transaction; delivery is tested in pytest).
BEGIN;
SELECT plan(16);

SELECT is_empty($$SELECT * FROM tr_route_notifications('dm_strand', '{"id": "A", "tags": []}')$$,
                'a row without tags notifies nobody');
SELECT is_empty($$SELECT * FROM tr_route_notifications('dm_strand', '{"id": "A", "tags": null}')$$,
                'a row with NULL tags notifies nobody');
SELECT is_empty($$SELECT * FROM tr_route_notifications('dm_strand', '{"id": "A", "tags": ["rm:something", "priority:high"]}')$$,
                'a row with only unknown tags notifies nobody');
SELECT results_eq(
    $$SELECT channel FROM tr_route_notifications('dm_strand', '{"id": "A", "tags": ["trader:execute", "priority:high"]}')$$,
    ARRAY['trader_strand_notification'],
    'trader:execute goes to the Trader''s channel, unknown tags beside it are ignored');
SELECT results_eq(
    $$SELECT channel FROM tr_route_notifications('tr_strand', '{"id": "A", "tags": ["dm:execution_report"]}')$$,
    ARRAY['decision_maker_strand_notification'],
    'dm:execution_report goes to the Decision Maker''s channel');
SELECT results_eq(
    $$SELECT channel FROM tr_route_notifications('tr_strand', '{"id": "A", "tags": ["dm:execution_report", "tr:risk_update"]}')$$,
    ARRAY['decision_maker_strand_notification', 'trader_strand_notification'],
    'several tags to several channels: one notification per channel');
SELECT is(
    (SELECT count(*) FROM tr_route_notifications('md_strand', '{"id": "A", "tags": ["tr:market_update", "tr:risk_update", "trader:execute"]}')),
    1::bigint, 'several tags to one channel: one notification');

SELECT is(
    (SELECT payload::jsonb FROM tr_route_notifications('dm_strand',
        '{"id": "01J0000000000000000000000A", "module": "dm", "kind": "decision", "tags": ["trader:execute"], "order_spec": {"qty": 1}}')),
    '{"strand_id": "01J0000000000000000000000A", "table": "dm_strand", "module": "dm", "kind": "decision", "tags": ["trader:execute"]}'::jsonb,
    'the payload carries strand_id, table, module, kind and tags, and not the row');

-- UPDATE rule
SELECT is_empty($$SELECT * FROM tr_route_notifications('tr_strand',
        '{"id": "A", "tags": ["dm:execution_report"], "exec_metrics": {"status": "working", "filled_qty": 2}}',
        '{"id": "A", "tags": ["dm:execution_report"], "exec_metrics": {"status": "working", "filled_qty": 1}}')$$,
    'an update that leaves tags and status alone notifies nobody');
SELECT isnt_empty($$SELECT * FROM tr_route_notifications('tr_strand',
        '{"id": "A", "tags": ["dm:execution_report"], "exec_metrics": {"status": "filled"}}',
        '{"id": "A", "tags": ["dm:execution_report"], "exec_metrics": {"status": "working"}}')$$,
    'an update that changes exec_metrics status notifies');
SELECT isnt_empty($$SELECT * FROM tr_route_notifications('dm_strand',
        '{"id": "A", "tags": ["trader:execute"]}', '{"id": "A", "tags": []}')$$,
    'an update that changes the tags notifies');
SELECT is_empty($$SELECT * FROM tr_route_notifications('dm_strand',
        '{"id": "A", "tags": ["trader:execute"], "symbol": "ETH"}', '{"id": "A", "tags": ["trader:execute"], "symbol": "BTC"}')$$,
    'an update of another column of a peer row notifies nobody');

-- Adding a route is an INSERT.
INSERT INTO tr_routes (tag, channel, meaning) VALUES ('rm:alert', 'risk_manager_strand_notification', 'test route');
SELECT results_eq(
    $$SELECT channel FROM tr_route_notifications('tr_strand', '{"id": "A", "tags": ["rm:alert"]}')$$,
    ARRAY['risk_manager_strand_notification'], 'a route added by INSERT is used at once');
SELECT throws_ok($$INSERT INTO tr_routes (tag, channel, meaning) VALUES ('x:y', 'Bad Channel!', 'bad')$$,
                 '23514', NULL, 'a channel must be a plain identifier');

-- The trigger runs the rule on every strand table without failing the insert.
SELECT lives_ok($$INSERT INTO tr_strand (kind, tags, exec_metrics) VALUES ('execution', ARRAY['dm:execution_report'], '{"status": "working", "venue": "paper"}')$$,
                'a report inserts through the routing trigger');
SELECT lives_ok($$INSERT INTO md_strand (symbol, tags, market_data) VALUES ('BTC-USD', ARRAY['tr:market_update'], '{"bid": 1, "ask": 2}')$$,
                'a quote inserts through the routing trigger');

SELECT * FROM finish();
ROLLBACK;
