-- Verify trader:learning/curator_performance
BEGIN;
SELECT id, curator_type, execution_id, contribution_score, accuracy_score, learning_metadata, created_at, weighed_at
  FROM tr_curator_performance WHERE false;
ROLLBACK;
