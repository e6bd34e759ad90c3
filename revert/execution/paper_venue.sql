-- Revert trader:execution/paper_venue
BEGIN;
DROP TRIGGER tr_paper_match_quote ON md_strand;
DROP FUNCTION tr_paper_match_quote();
DROP FUNCTION tr_paper_cancel(text, text);
DROP FUNCTION tr_paper_order(text, text);
DROP FUNCTION tr_paper_submit_batch(text, jsonb);
DROP FUNCTION tr_paper_submit(text, jsonb);
DROP FUNCTION tr_paper_fill(tr_paper_orders, numeric, numeric, timestamptz);
DROP FUNCTION tr_paper_answer(tr_paper_orders);
DROP TABLE tr_paper_orders;
COMMIT;
