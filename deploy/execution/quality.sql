-- Deploy trader:execution/quality
BEGIN;

CREATE TABLE tr_execution_performance (
    id              text PRIMARY KEY DEFAULT tr_ulid(),
    execution_id    text NOT NULL,
    venue           text NOT NULL,
    symbol          text NOT NULL,
    execution_score decimal(8,4) NOT NULL,
    slippage_bps    decimal(8,4) NOT NULL,
    latency_ms      integer NOT NULL,
    lesson_metadata jsonb,
    created_at      timestamptz DEFAULT now()
);

CREATE INDEX tr_execution_performance_venue_symbol ON tr_execution_performance (venue, symbol, created_at DESC);

COMMENT ON TABLE tr_execution_performance IS 'Execution quality of each order: slippage, latency and a score in [0, 1].';
COMMENT ON COLUMN tr_execution_performance.execution_id IS 'The execution strand (tr_strand.id) measured.';
COMMENT ON COLUMN tr_execution_performance.slippage_bps IS 'Realized slippage in bps, positive is cost; clamped to the column''s range.';
COMMENT ON INDEX tr_execution_performance_venue_symbol IS 'Addition: recent quality per venue and symbol, read by curation.';

CREATE UNIQUE INDEX tr_execution_performance_execution ON tr_execution_performance (execution_id);
COMMENT ON INDEX tr_execution_performance_execution IS 'Addition: one quality row per execution, refreshed by later fills.';

COMMIT;
