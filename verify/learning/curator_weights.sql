-- Verify trader:learning/curator_weights
BEGIN;
SELECT id, curator_type, weight, confidence, lesson_adjustments, created_at, updated_at
  FROM tr_curator_weights WHERE false;
SELECT 1 / count(*) FROM tr_curator_weights WHERE curator_type = 'venue_curator';
ROLLBACK;
