-- Revert trader:execution/apply_fill
BEGIN;
DROP FUNCTION tr_apply_fill(text, text, numeric, numeric, numeric, text, timestamptz);
DROP FUNCTION tr_record_position_event(tr_positions, text, jsonb, text, text);
DROP FUNCTION tr_position_reduce(tr_positions, numeric, numeric, numeric, text, timestamptz);
DROP FUNCTION tr_position_add(tr_positions, integer, numeric, numeric, numeric, text, timestamptz);
DROP FUNCTION tr_cycle_from_holding(tr_positions);
DROP TYPE tr_position_change;
DROP FUNCTION tr_cycle_summary(jsonb);
DROP FUNCTION tr_position_json(tr_positions);
DROP FUNCTION tr_assert_fill(text, text, numeric, numeric, numeric);
DROP TABLE tr_cycle_orders;
COMMIT;
