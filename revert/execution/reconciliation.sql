-- Revert trader:execution/reconciliation from pg
-- The differences go, and with them the audit rows of their acknowledgements: the
-- action check of @v0.2.1 would refuse them.
BEGIN;

DROP VIEW tr_open_venue_differences;
DROP FUNCTION tr_acknowledge_difference(text, text, text, timestamptz);
DROP FUNCTION tr_assert_operator_difference(text, text);
DROP FUNCTION tr_health_venue_differences();
DROP FUNCTION tr_reconcile_venue(text, jsonb, jsonb, timestamptz);
DROP FUNCTION tr_reconcile_balances(text, jsonb, timestamptz);
DROP FUNCTION tr_parse_balance(jsonb);
DROP FUNCTION tr_accepted_offset(text, text);
DROP FUNCTION tr_venue_trader_qty(text, text, text[]);
DROP FUNCTION tr_reconcile_open_orders(text, jsonb, timestamptz);
DROP FUNCTION tr_parse_open_order(jsonb);
DROP FUNCTION tr_json_text(jsonb, integer);
DROP TABLE tr_venue_differences;

DELETE FROM tr_operator_actions WHERE action = 'acknowledge_difference';
ALTER TABLE tr_operator_actions DROP CONSTRAINT tr_operator_actions_action_check,
    ADD CONSTRAINT tr_operator_actions_action_check
        CHECK (action IN ('retry', 'acknowledge', 'resolve', 'cancel', 'schedule_jobs'));

DELETE FROM tr_settings WHERE key IN ('reconcile.interval', 'reconcile.balance_tolerance');
DELETE FROM tr_setting_rules WHERE key IN ('reconcile.interval', 'reconcile.balance_tolerance');
DELETE FROM tr_reason_codes WHERE code = 'BALANCE_DRIFT';

COMMIT;
