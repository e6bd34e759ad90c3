-- Revert trader:tr_apply_fill
BEGIN;
DROP FUNCTION tr_apply_fill(text, text, numeric, numeric, numeric, text, timestamptz);
DROP FUNCTION tr_cycle_summary(jsonb);
DROP FUNCTION tr_position_json(tr_positions);
DROP FUNCTION tr_check_fill(text, text, numeric, numeric, numeric);
DROP TABLE tr_cycle_orders;
COMMIT;
