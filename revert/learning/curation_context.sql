-- Revert trader:learning/curation_context
BEGIN;
DROP FUNCTION tr_register_curator(text);
DROP FUNCTION tr_curation_context(text[]);
DROP FUNCTION tr_lesson_effect(text, text, text, text, text[], text, timestamptz);
DROP AGGREGATE tr_product(numeric);
DROP FUNCTION tr_match_lessons(text, text, text, text, timestamptz);
DROP FUNCTION tr_lesson_in_force(jsonb, timestamptz);
DELETE FROM tr_settings WHERE key IN ('curation.threshold', 'curation.timeout_ms', 'curation.plugins', 'curation.quality_window');
COMMIT;
