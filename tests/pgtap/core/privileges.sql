-- Each role can do exactly its job: SET ROLE, then what it must be able to do lives,
-- and what it must not do fails with 42501.
BEGIN;
SELECT plan(38);

-- Decision Maker
SET ROLE dm_module;
SELECT lives_ok($$INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES ('P-DM', 'BTC-USD', '{"side": "buy", "qty": 1}', ARRAY['trader:execute'])$$,
                'the Decision Maker inserts decisions into dm_strand');
SELECT lives_ok($$UPDATE dm_strand SET tags = tags || 'priority:high'::text WHERE id = 'P-DM'$$, 'the Decision Maker updates its own strands');
SELECT lives_ok($$SELECT * FROM tr_strand$$, 'the Decision Maker reads tr_strand');
SELECT throws_ok($$INSERT INTO tr_strand (kind) VALUES ('execution')$$, '42501', NULL, 'the Decision Maker cannot write tr_strand');
SELECT throws_ok($$SELECT * FROM tr_inbox$$, '42501', NULL, 'the Decision Maker cannot read the inbox');
SELECT throws_ok($$SELECT * FROM tr_positions$$, '42501', NULL, 'the Decision Maker cannot read positions');
SELECT throws_ok($$INSERT INTO rm_strand (tags) VALUES (ARRAY['tr:risk_update'])$$, '42501', NULL, 'the Decision Maker cannot write rm_strand');
SELECT throws_ok($$DELETE FROM dm_strand$$, '42501', NULL, 'the Decision Maker cannot delete strands');
SELECT throws_ok($$SELECT * FROM tr_claim_orders('dm', 1)$$, '42501', NULL, 'the Decision Maker cannot claim orders');
RESET ROLE;
SELECT is((SELECT count(*) FROM tr_inbox WHERE id = 'P-DM'), 1::bigint,
          'a decision inserted by the Decision Maker''s role still becomes a work item (SECURITY DEFINER trigger)');

-- Risk Manager
SET ROLE rm_module;
SELECT lives_ok($$INSERT INTO rm_strand (tags, risk_update) VALUES (ARRAY['tr:risk_update'], '{"scope": "global"}')$$,
                'the Risk Manager inserts into rm_strand');
SELECT lives_ok($$SELECT * FROM tr_strand$$, 'the Risk Manager reads tr_strand');
SELECT throws_ok($$INSERT INTO dm_strand (tags) VALUES (ARRAY['trader:execute'])$$, '42501', NULL, 'the Risk Manager cannot write decisions');
SELECT throws_ok($$INSERT INTO md_strand (tags) VALUES (ARRAY['tr:market_update'])$$, '42501', NULL, 'the Risk Manager cannot write quotes');
SELECT throws_ok($$UPDATE tr_settings SET value = '1 second'$$, '42501', NULL, 'the Risk Manager cannot change settings');
RESET ROLE;

-- Market Data
SET ROLE md_module;
SELECT lives_ok($$INSERT INTO md_strand (symbol, tags, market_data) VALUES ('BTC-USD', ARRAY['tr:market_update'], '{"bid": 1, "ask": 2}')$$,
                'Market Data inserts into md_strand');
SELECT lives_ok($$SELECT * FROM tr_strand$$, 'Market Data reads tr_strand');
SELECT throws_ok($$INSERT INTO rm_strand (tags) VALUES (ARRAY['tr:risk_update'])$$, '42501', NULL, 'Market Data cannot write rm_strand');
SELECT throws_ok($$INSERT INTO tr_routes (tag, channel, meaning) VALUES ('a:b', 'c', 'd')$$, '42501', NULL, 'Market Data cannot add routes');
RESET ROLE;

-- Worker
SET ROLE tr_worker;
SELECT lives_ok($$SELECT * FROM tr_claim_orders('tr_worker', 1)$$, 'the worker claims orders');
SELECT lives_ok($$SELECT * FROM tr_inbox$$, 'the worker reads the inbox');
SELECT lives_ok($$SELECT * FROM dm_strand$$, 'the worker reads decisions');
SELECT lives_ok($$SELECT tr_setting('inbox.lease')$$, 'the worker reads settings');
SELECT throws_ok($$UPDATE tr_inbox SET state = 'done'$$, '42501', NULL, 'the worker cannot update the inbox but through its functions');
SELECT throws_ok($$INSERT INTO tr_strand (kind) VALUES ('execution')$$, '42501', NULL, 'the worker cannot write tr_strand directly');
SELECT throws_ok($$INSERT INTO dm_strand (tags) VALUES (ARRAY['trader:execute'])$$, '42501', NULL, 'the worker cannot make decisions');
SELECT throws_ok($$UPDATE tr_positions SET quantity = 0$$, '42501', NULL, 'the worker cannot edit positions');
SELECT throws_ok($$DROP TABLE tr_strand$$, '42501', NULL, 'the worker cannot drop tables');
SELECT throws_ok($$ALTER TABLE tr_inbox ADD COLUMN x int$$, '42501', NULL, 'the worker cannot alter tables');
SELECT throws_ok($$CREATE TABLE public.worker_table (x int)$$, '42501', NULL, 'the worker cannot create objects in the schema');
SELECT throws_ok($$DROP FUNCTION tr_ulid(timestamptz)$$, '42501', NULL, 'the worker cannot drop functions');
RESET ROLE;

-- Inspector
SET ROLE tr_inspector;
SELECT lives_ok($$SELECT (SELECT count(*) FROM tr_strand) + (SELECT count(*) FROM tr_positions) + (SELECT count(*) FROM tr_inbox)
                       + (SELECT count(*) FROM tr_execution_performance) + (SELECT count(*) FROM tr_curator_performance)
                       + (SELECT count(*) FROM tr_curator_weights) + (SELECT count(*) FROM tr_routes) + (SELECT count(*) FROM tr_settings)
                       + (SELECT count(*) FROM dm_strand) + (SELECT count(*) FROM rm_strand) + (SELECT count(*) FROM md_strand)$$,
                'the inspector reads every table');
SELECT throws_ok($$INSERT INTO tr_strand (kind) VALUES ('execution')$$, '42501', NULL, 'the inspector cannot write tr_strand');
SELECT throws_ok($$UPDATE tr_curator_weights SET weight = 2$$, '42501', NULL, 'the inspector cannot change weights');
SELECT throws_ok($$DELETE FROM dm_strand$$, '42501', NULL, 'the inspector cannot delete decisions');
SELECT throws_ok($$SELECT * FROM tr_claim_orders('inspector', 1)$$, '42501', NULL, 'the inspector cannot claim orders');
RESET ROLE;

-- PUBLIC
SELECT ok(NOT has_function_privilege('public', 'tr_claim_orders(text, integer, interval, timestamptz, text[])', 'execute'),
          'PUBLIC cannot claim orders');
SELECT ok(NOT has_table_privilege('public', 'tr_inbox', 'select'), 'PUBLIC cannot read the inbox');

SELECT * FROM finish();
ROLLBACK;
