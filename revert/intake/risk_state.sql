-- Revert trader:intake/risk_state
BEGIN;
DROP TRIGGER tr_apply_risk_update ON rm_strand;
DROP FUNCTION tr_apply_risk_update();
DROP FUNCTION tr_parse_risk_update(jsonb);
DROP TABLE tr_risk_state;
COMMIT;
