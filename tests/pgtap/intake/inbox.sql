-- The durable inbox: decisions become work items in the Decision Maker's own
-- transaction, and tr_claim_orders hands them out in batches under a lease.
BEGIN;
SELECT plan(23);

DELETE FROM tr_inbox;
INSERT INTO dm_strand (id, lifecycle_id, symbol, timeframe, regime, signal_strength, order_spec, tags)
VALUES ('D1', 'L1', 'BTC-USD', '1m', 'trend', 0.7, '{"side": "buy", "qty": 1}', ARRAY['trader:execute']);

SELECT results_eq(
    $$SELECT id, source, source_id, lifecycle_id, symbol, timeframe, regime, signal_strength, order_spec, state, claim_count
        FROM tr_inbox$$,
    $$VALUES ('D1', 'decision', 'D1', 'L1', 'BTC-USD', '1m', 'trend', 0.7, '{"side": "buy", "qty": 1}'::jsonb, 'pending', 0)$$,
    'a decision tagged trader:execute is a pending work item with the decision''s id and order_spec');

INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES ('D2', 'BTC-USD', '{"side": "buy", "qty": 1}', ARRAY['dm:note']);
SELECT is((SELECT count(*) FROM tr_inbox WHERE id = 'D2'), 0::bigint, 'a dm_strand row without trader:execute is no work item');
UPDATE dm_strand SET tags = ARRAY['dm:note', 'trader:execute'] WHERE id = 'D2';
SELECT is((SELECT count(*) FROM tr_inbox WHERE id = 'D2'), 1::bigint, 'tagging it trader:execute later makes it a work item');
UPDATE dm_strand SET tags = ARRAY['trader:execute', 'priority:high'] WHERE id = 'D2';
SELECT is((SELECT count(*) FROM tr_inbox WHERE id = 'D2'), 1::bigint, 'retagging a decision does not make a second work item');
INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES ('D3', NULL, '"not an object"', ARRAY['trader:execute']);
SELECT results_eq($$SELECT state, status::text, reason FROM tr_inbox WHERE id = 'D3'$$,
                  $$VALUES ('done', 'rejected', 'INVALID_ORDER_SPEC')$$,
                  'a decision the Trader cannot use is accepted by the insert and rejected on arrival, with its reason code');
SELECT is((SELECT exec_metrics->>'reason' FROM tr_strand WHERE kind = 'execution' AND decision_id = 'D3'), 'INVALID_ORDER_SPEC',
          'its rejected report is written in the Decision Maker''s own transaction, without any worker');

-- The claim
DELETE FROM tr_inbox;
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, created_at)
SELECT 'W' || g, 'decision', 'W' || g, 'ETH-USD', '{"side": "sell", "qty": 2}', '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 ms'
  FROM generate_series(1, 5) AS g;
INSERT INTO tr_inbox (id, source, source_id, state) VALUES ('X-working', 'decision', 'X-working', 'working'),
                                                          ('X-done', 'decision', 'X-done', 'done');

SELECT results_eq(
    $$SELECT id FROM tr_claim_orders('worker-a', 2, '10 seconds', '2026-01-01 00:01:00+00') ORDER BY id$$,
    ARRAY['W1', 'W2'], 'a claim takes a batch of the given size, oldest first');
SELECT results_eq(
    $$SELECT state, lease_owner, lease_expires_at, claim_count FROM tr_inbox WHERE id = 'W1'$$,
    $$VALUES ('claimed', 'worker-a', '2026-01-01 00:01:10+00'::timestamptz, 1)$$,
    'a claimed item records its worker and the end of its lease');
SELECT results_eq(
    $$SELECT id FROM tr_claim_orders('worker-b', 10, '10 seconds', '2026-01-01 00:01:01+00') ORDER BY id$$,
    ARRAY['W3', 'W4', 'W5'], 'the next claim takes the rest, never an item under a live lease');
SELECT is_empty($$SELECT * FROM tr_claim_orders('worker-c', 10, '10 seconds', '2026-01-01 00:01:05+00')$$,
                'nothing is left to claim while the leases live; working and done items are never claimed');
SELECT results_eq(
    $$SELECT id, lease_owner, claim_count FROM tr_claim_orders('worker-c', 10, '10 seconds', '2026-01-01 00:01:10+00') ORDER BY id$$,
    $$VALUES ('W1', 'worker-c', 2), ('W2', 'worker-c', 2)$$,
    'an expired lease returns its item to the next claim, which counts the second claim');
SELECT results_eq(
    $$SELECT id FROM tr_claim_orders('worker-d', 10, NULL, '2026-01-01 00:01:11.5+00') ORDER BY id$$,
    ARRAY['W3', 'W4', 'W5'], 'worker-b''s items return when its lease has run out');
SELECT is((SELECT lease_expires_at FROM tr_inbox WHERE id = 'W3'), '2026-01-01 00:01:21.5+00'::timestamptz,
          'the default lease is the inbox.lease setting, 10 seconds');
UPDATE tr_settings SET value = '30 seconds' WHERE key = 'inbox.lease';
SELECT is((SELECT lease_expires_at FROM tr_claim_orders('worker-e', 1, NULL, '2026-01-01 00:02:00+00')),
          '2026-01-01 00:02:30+00'::timestamptz, 'changing inbox.lease changes the lease of the next claim');
SELECT is((SELECT count(*) FROM tr_claim_orders('worker-f', 1)), 1::bigint,
          'without a time the claim uses the clock, under which these old leases have long expired');

SELECT throws_ok($$SELECT * FROM tr_claim_orders('', 10)$$, '22023', 'tr_claim_orders: worker id is empty', 'an empty worker id is refused');
SELECT throws_ok($$SELECT * FROM tr_claim_orders('w', 0)$$, '22023', 'tr_claim_orders: batch size 0 is not positive', 'a batch size of 0 is refused');
SELECT throws_ok($$SELECT * FROM tr_claim_orders('w', 1, '-1 second')$$, '22023', NULL, 'a negative lease is refused');
SELECT throws_ok($$SELECT tr_setting('inbox.no_such_key')$$, '22023', 'unknown Trader setting ''inbox.no_such_key''', 'an unknown setting is an error, not NULL');
SELECT throws_ok($$INSERT INTO tr_inbox (id, source, source_id, state) VALUES ('Z', 'decision', 'Z', 'claimed')$$,
                 '23514', NULL, 'a claimed item must have an owner and a lease');
SELECT throws_ok($$INSERT INTO tr_inbox (id, source, source_id, state) VALUES ('Z', 'decision', 'Z', 'lost')$$,
                 '23514', NULL, 'states are pending, claimed, working, done');
SELECT throws_ok($$INSERT INTO tr_inbox (id, source, source_id) VALUES ('Z', 'email', 'Z')$$,
                 '23514', NULL, 'sources are decision and monitor');
SELECT ok((SELECT indexdef LIKE '%WHERE (state = ANY%' FROM pg_indexes WHERE indexname = 'tr_inbox_claimable'),
          'claimable items have a partial index of their own');

SELECT * FROM finish();
ROLLBACK;
