-- Revert trader:ops/operator_actions
-- tr_orders_to_cancel and tr_dead_letters go back to what intake/enqueue and
-- execution/pre_trade_check made; the role goes as the other module roles do.
BEGIN;

CREATE OR REPLACE FUNCTION tr_orders_to_cancel()
RETURNS TABLE (order_id text, symbol text, reason text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
        SELECT i.id, i.symbol, 'TRADING_HALTED'
          FROM tr_inbox i
         WHERE i.state = 'working'
           AND (tr_effective_risk(i.symbol)).trading_state = 'halted'
         ORDER BY i.created_at;
END
$$;
COMMENT ON FUNCTION tr_orders_to_cancel() IS 'Orders working at a venue whose symbol is now halted: the worker cancels and reports them.';

DROP VIEW tr_dead_letters;
CREATE VIEW tr_dead_letters AS
SELECT i.id AS order_id, i.source, i.symbol, i.venue, i.reason, i.claim_count AS attempts, i.last_error, i.detail,
       i.created_at, i.updated_at AS failed_at
  FROM tr_inbox i
 WHERE i.status = 'failed' AND i.reason IN ('PROCESSING_ERROR', 'UNKNOWN_AT_VENUE') AND i.claim_count > 0
 ORDER BY i.updated_at DESC;
COMMENT ON VIEW tr_dead_letters IS
    'Orders that failed because their handling kept failing (PROCESSING_ERROR) or because an order that may be at a venue could not be reconciled (UNKNOWN_AT_VENUE), with attempts and the last error.';
GRANT SELECT ON tr_dead_letters TO tr_worker, tr_inspector;

DROP FUNCTION tr_request_cancel(text, text, text, timestamptz);
DROP FUNCTION tr_resolve_order(text, text, jsonb, text, text, timestamptz);
DROP FUNCTION tr_assert_operator_fills(jsonb, timestamptz);
DROP FUNCTION tr_acknowledge_order(text, text, text, timestamptz);
DROP FUNCTION tr_retry_order(text, text, text, timestamptz);
DROP FUNCTION tr_record_operator_action(text, tr_inbox, text, text, jsonb, timestamptz);
DROP FUNCTION tr_assert_operator_order(text, text);
DROP TABLE tr_operator_actions;

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'tr_operator') THEN
        DROP OWNED BY tr_operator;
        BEGIN
            DROP ROLE tr_operator;
        EXCEPTION WHEN dependent_objects_still_exist THEN
            RAISE NOTICE 'role tr_operator kept: it still holds privileges in another database';
        END;
    END IF;
END
$$;

COMMIT;
