-- Deploy trader:core/privileges
-- Each role can do exactly its job. Peers write their own strand table and read the
-- Trader's reports; the worker reads and calls the Trader's functions, which are the
-- only way it changes anything; the inspector reads. Later changes grant on what
-- they add, in the same way.
BEGIN;

REVOKE EXECUTE ON FUNCTION tr_ulid(timestamptz), tr_setting(text),
                           tr_route_notifications(text, jsonb, jsonb) FROM PUBLIC;

GRANT SELECT, INSERT, UPDATE ON dm_strand TO dm_module;
GRANT SELECT, INSERT, UPDATE ON rm_strand TO rm_module;
GRANT SELECT, INSERT, UPDATE ON md_strand TO md_module;
GRANT SELECT ON tr_strand TO dm_module, rm_module, md_module;
-- The peer tables this module creates default their id to tr_ulid().
GRANT EXECUTE ON FUNCTION tr_ulid(timestamptz) TO dm_module, rm_module, md_module;

GRANT SELECT ON dm_strand, rm_strand, md_strand, tr_strand, tr_positions, tr_execution_performance,
                tr_curator_performance, tr_curator_weights, tr_routes, tr_settings, tr_inbox
   TO tr_worker, tr_inspector;
GRANT EXECUTE ON FUNCTION tr_ulid(timestamptz), tr_setting(text),
                          tr_claim_orders(text, integer, interval, timestamptz, text[]) TO tr_worker;

COMMIT;
