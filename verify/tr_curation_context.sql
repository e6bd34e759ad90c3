-- Verify trader:tr_curation_context
BEGIN;
SELECT 1 / has_function_privilege('tr_worker', 'tr_curation_context(text[])', 'execute')::int;
SELECT * FROM tr_match_lessons('X', NULL, NULL, NULL) WHERE false;
SELECT tr_setting('curation.threshold')::numeric;
ROLLBACK;
