-- Verify trader:tr_braids
BEGIN;
SELECT braid_id, member_id FROM tr_braid_members WHERE false;
SELECT id, insight FROM tr_active_lessons WHERE false;
SELECT tr_form_braids('1970-01-02');
SELECT 1 / ((tr_lesson_effect('X', NULL, NULL, NULL, 'paper_a')->>'size_multiplier')::numeric = 1)::int;
ROLLBACK;
