-- Verify trader:learning/curation_context
BEGIN;
SELECT 1 / has_function_privilege('tr_worker', 'tr_curation_context(text[])', 'execute')::int;
SELECT 1 / has_function_privilege('tr_worker', 'tr_lesson_effect(text, text, text, text, text[], text, timestamptz)', 'execute')::int;
SELECT * FROM tr_match_lessons('X', NULL, NULL, NULL) WHERE false;
SELECT order_id FROM tr_curation_context(ARRAY['verify-none']) WHERE false;
SELECT tr_setting('curation.threshold')::numeric;
SELECT 1 / (tr_product(x) = 0.3)::int FROM unnest(ARRAY[0.5, NULL, 0.6]) x;
-- A lesson past both bounds: its effect is held at 2 and at 1.
INSERT INTO tr_strand (id, kind, symbol, lesson_metadata, tags)
VALUES ('verify-lesson', 'braid', 'verify-symbol',
        '{"lesson": {"conditions": {"symbol": "verify-symbol"}, "effects": {"confidence_multiplier": 10, "size_multiplier": 3}}}', '{}');
SELECT 1 / (lesson_effect = '{"lessons": ["verify-lesson"], "confidence_multiplier": 2, "size_multiplier": 1,
                              "avoid": false, "prefer": false}')::int
  FROM tr_lesson_effect('verify-symbol', NULL, NULL, NULL, ARRAY['verify-venue']);
ROLLBACK;
