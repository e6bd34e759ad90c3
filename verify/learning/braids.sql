-- Verify trader:learning/braids
BEGIN;
SELECT braid_id, member_id FROM tr_braid_members WHERE false;
SELECT id, insight FROM tr_active_lessons WHERE false;
SELECT tr_form_braids('1970-01-02');
-- Its readers call the view's functions with their own rights.
SET LOCAL ROLE tr_inspector;
SELECT count(*) FROM tr_active_lessons;
RESET ROLE;
ROLLBACK;
