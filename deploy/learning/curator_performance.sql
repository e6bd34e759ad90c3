-- Deploy trader:learning/curator_performance
BEGIN;

CREATE TABLE tr_curator_performance (
    id                 text PRIMARY KEY DEFAULT tr_ulid(),
    curator_type       text NOT NULL,
    execution_id       text NOT NULL,
    contribution_score decimal(8,4) NOT NULL,
    accuracy_score     decimal(8,4) NOT NULL,
    learning_metadata  jsonb,
    created_at         timestamptz DEFAULT now(),
    weighed_at         timestamptz
);

CREATE INDEX tr_curator_performance_curator ON tr_curator_performance (curator_type, created_at DESC);

COMMENT ON TABLE tr_curator_performance IS 'How each curator''s contribution and predictions fared against the outcome of an execution.';
COMMENT ON COLUMN tr_curator_performance.curator_type IS 'execution_curator | venue_curator | risk_curator | a plug-in curator''s name.';
COMMENT ON COLUMN tr_curator_performance.execution_id IS 'The execution strand (tr_strand.id) scored.';
COMMENT ON INDEX tr_curator_performance_curator IS 'Addition: a curator''s recent record, read by the weight update.';

COMMENT ON COLUMN tr_curator_performance.weighed_at IS 'Addition: when the weight update counted this row; NULL until then. Each row counts once.';
CREATE UNIQUE INDEX tr_curator_performance_once ON tr_curator_performance (execution_id, curator_type);
COMMENT ON INDEX tr_curator_performance_once IS 'Addition: one row per curator per execution, refreshed while not yet weighed.';
CREATE INDEX tr_curator_performance_unweighed ON tr_curator_performance (curator_type) WHERE weighed_at IS NULL;
COMMENT ON INDEX tr_curator_performance_unweighed IS 'Addition: what the next weight update reads.';

COMMIT;
