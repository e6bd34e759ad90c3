-- Revert trader:core/input_checks
BEGIN;
DROP FUNCTION tr_record_unapplied(text, text, text, text, text, jsonb);
DROP TABLE tr_unapplied_input;
DROP FUNCTION tr_decimal_places(numeric);
DROP FUNCTION tr_json_numeric(jsonb);
COMMIT;
