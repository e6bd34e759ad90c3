-- Revert trader:core/privileges
BEGIN;

REVOKE SELECT ON dm_strand, rm_strand, md_strand, tr_strand, tr_positions, tr_execution_performance,
                 tr_curator_performance, tr_curator_weights, tr_routes, tr_settings, tr_inbox
  FROM tr_worker, tr_inspector;
REVOKE EXECUTE ON FUNCTION tr_ulid(timestamptz), tr_setting(text),
                           tr_claim_orders(text, integer, interval, timestamptz, text[]) FROM tr_worker;
REVOKE EXECUTE ON FUNCTION tr_ulid(timestamptz) FROM dm_module, rm_module, md_module;
REVOKE SELECT ON tr_strand FROM dm_module, rm_module, md_module;
REVOKE SELECT, INSERT, UPDATE ON md_strand FROM md_module;
REVOKE SELECT, INSERT, UPDATE ON rm_strand FROM rm_module;
REVOKE SELECT, INSERT, UPDATE ON dm_strand FROM dm_module;

GRANT EXECUTE ON FUNCTION tr_ulid(timestamptz), tr_setting(text),
                          tr_route_notifications(text, jsonb, jsonb) TO PUBLIC;

COMMIT;
