-- Revert trader:learning/braids
BEGIN;
DO $$ BEGIN PERFORM tr_unschedule_job('trader-form-braids'); END $$;
DROP VIEW tr_active_lessons;
REVOKE EXECUTE ON FUNCTION tr_lesson_in_force(jsonb, timestamptz) FROM tr_worker, tr_inspector;
DROP FUNCTION tr_form_braids(timestamptz);
DROP FUNCTION tr_upsert_braid(text, text, jsonb, jsonb, jsonb, text[], timestamptz, timestamptz);
DROP FUNCTION tr_braid_insight(jsonb);
DROP TABLE tr_braid_members;
DELETE FROM tr_settings WHERE key IN ('braids.window', 'braids.min_size', 'braids.slip_excess_bps', 'braids.meta_min_braids', 'braids.insight_hook');
COMMIT;
