-- Every view and table a role is granted SELECT on can be read by that role, found
-- from the catalog rather than listed by hand: a view that calls a function its
-- reader may not execute fails only when it has rows, so every relation is given
-- rows first (orders, fills, a braid, curator scores, unapplied input, risk state).
BEGIN;

DELETE FROM tr_braid_members; DELETE FROM tr_curator_weight_history; DELETE FROM tr_curator_performance;
DELETE FROM tr_execution_performance; DELETE FROM tr_strand; DELETE FROM tr_positions; DELETE FROM tr_quotes;
DELETE FROM tr_inbox;

INSERT INTO md_strand (symbol, tags, market_data) VALUES ('RD-1', ARRAY['tr:market_update'], '{"bid": 99, "ask": 101}'),
                                                         ('RD-1', ARRAY['tr:market_update'], '{"bid": 102, "ask": 101}');
INSERT INTO rm_strand (tags, risk_update) VALUES (ARRAY['tr:risk_update'], '{"scope": "RD-2", "max_order_qty": 100}');
INSERT INTO tr_inbox (id, source, source_id, symbol, regime, timeframe, order_spec)
SELECT 'RD-' || i, 'decision', 'RD-' || i, 'RD-1', 'trend', '1m', '{"side": "buy", "qty": 1, "ref_px": 100}'
  FROM generate_series(1, 5) i;
SELECT tr_report_execution('RD-' || i, jsonb_build_object(
    'status', 'filled', 'venue', 'paper_a', 'submitted_at', '2026-01-01T00:00:00Z',
    'tr_predict', '{"slip_bps": 1}', 'lesson_metadata', '{"curators": {"venue_curator": {"score": 0.8, "weight": 1}}}',
    'fills', jsonb_build_array(jsonb_build_object('fill_id', 'F' || i, 'px', 100.2, 'qty', 1, 'ts', '2026-01-01T00:00:00.1Z'))))
  FROM generate_series(1, 5) i;
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, claim_count, last_error)
VALUES ('RD-DEAD', 'decision', 'RD-DEAD', 'RD-1', '{"side": "buy", "qty": 1}', 5, 'venue adapter crashed');
SELECT tr_report_execution('RD-DEAD', '{"status": "failed", "reason": "PROCESSING_ERROR"}');
SELECT tr_form_braids(clock_timestamp());
SELECT tr_update_curator_weights(clock_timestamp());

CREATE TEMP TABLE readable_grants AS
SELECT DISTINCT c.oid::regclass::text AS relation, c.relkind, r.rolname
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
 CROSS JOIN pg_catalog.pg_roles r
 WHERE c.relkind IN ('r', 'v', 'm', 'p')
   AND r.rolname IN ('tr_worker', 'tr_inspector', 'tr_operator', 'dm_module', 'rm_module', 'md_module')
   AND has_table_privilege(r.rolname, c.oid, 'SELECT')
   AND (c.relname LIKE 'tr\_%' OR c.relname IN ('dm_strand', 'rm_strand', 'md_strand'));

-- Reads every row of p_relation as p_role; the error, or NULL when the read works.
CREATE FUNCTION pg_temp.read_as(p_role text, p_relation text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('SET LOCAL ROLE %I', p_role);
    EXECUTE format('SELECT count(*) FROM (SELECT * FROM %s) x', p_relation);
    RESET ROLE;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $$;

SELECT plan((SELECT count(*)::integer FROM readable_grants) + 3);

SELECT cmp_ok((SELECT count(*) FROM readable_grants WHERE relkind = 'v'), '>=', 10::bigint,
              'the views granted to the module roles are found in the catalog');
SELECT ok((SELECT bool_and(n > 0) FROM (SELECT (SELECT count(*) FROM tr_active_lessons) + 0 AS n
                                        UNION ALL SELECT count(*) FROM tr_dead_letters
                                        UNION ALL SELECT count(*) FROM tr_unapplied_summary
                                        UNION ALL SELECT count(*) FROM tr_curator_leaderboard
                                        UNION ALL SELECT count(*) FROM tr_execution_quality) x),
          'the views that call functions have rows to call them on');
SELECT is(pg_temp.read_as(rolname, relation), NULL,
          format('%s can read %s %s, which it is granted', rolname, CASE relkind WHEN 'v' THEN 'view' ELSE 'table' END, relation))
  FROM readable_grants ORDER BY relation, rolname;
SELECT is(current_user::text, session_user::text, 'the test ends as the role it started as');

SELECT * FROM finish();
ROLLBACK;
