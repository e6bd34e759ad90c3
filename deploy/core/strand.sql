-- Deploy trader:core/strand
BEGIN;

CREATE TABLE tr_strand (
    id              text PRIMARY KEY DEFAULT tr_ulid(),
    lifecycle_id    text,
    parent_id       text,
    module          text DEFAULT 'tr',
    kind            text,
    symbol          text,
    timeframe       text,
    session_bucket  text,
    regime          text,
    decision_id     text,
    order_spec      jsonb,
    route_hint      text,
    tr_predict      jsonb,
    fills           jsonb,
    exec_metrics    jsonb,
    position_data   jsonb,
    monitoring_state jsonb,
    lesson_metadata jsonb,
    tags            text[],
    created_at      timestamptz DEFAULT now(),
    updated_at      timestamptz DEFAULT now()
);

CREATE INDEX tr_strand_symbol_time ON tr_strand (symbol, created_at DESC);
CREATE INDEX tr_strand_lifecycle ON tr_strand (lifecycle_id);
CREATE INDEX tr_strand_decision ON tr_strand (decision_id);
CREATE INDEX tr_strand_venue ON tr_strand ((exec_metrics->>'venue'));
CREATE INDEX tr_strand_kind ON tr_strand (kind);
CREATE INDEX tr_strand_status ON tr_strand ((exec_metrics->>'status'));
CREATE INDEX tr_strand_lesson_metadata ON tr_strand USING gin (lesson_metadata jsonb_path_ops);
CREATE INDEX tr_strand_tags ON tr_strand USING gin (tags);
CREATE INDEX tr_strand_recent_executions ON tr_strand (updated_at) WHERE kind = 'execution';

COMMENT ON INDEX tr_strand_lesson_metadata IS
    'jsonb_path_ops: serves containment (@>) queries on lessons, and costs a fraction of the default GIN opclass on every report insert.';
COMMENT ON INDEX tr_strand_recent_executions IS
    'Addition: the executions of the braid window, read every minute by the braid job; without it the job reads every execution ever reported.';
CREATE UNIQUE INDEX tr_strand_one_execution_per_order ON tr_strand (decision_id) WHERE kind = 'execution';
COMMENT ON INDEX tr_strand_one_execution_per_order IS 'Addition: an order never gets a second execution strand.';
CREATE INDEX tr_strand_active_monitors ON tr_strand (symbol)
    WHERE kind = 'monitoring' AND monitoring_state->>'status' = 'active';
COMMENT ON INDEX tr_strand_active_monitors IS 'Addition: the active monitors of a symbol, read on every quote.';
CREATE UNIQUE INDEX tr_strand_one_monitor_per_order ON tr_strand (decision_id) WHERE kind = 'monitoring';
COMMENT ON INDEX tr_strand_one_monitor_per_order IS 'Addition: an entry order has at most one monitor.';
CREATE INDEX tr_strand_lessons ON tr_strand (kind, symbol) WHERE kind IN ('braid', 'meta_braid');
COMMENT ON INDEX tr_strand_lessons IS 'Addition: the lessons read for every curated batch.';
COMMENT ON TABLE tr_strand IS
    'The Trader''s strands: execution (one per order, kept current), fill, position, monitoring, braid, meta_braid. Rows tagged dm:execution_report are reports for the Decision Maker.';
COMMENT ON COLUMN tr_strand.kind IS 'execution | fill | position | monitoring | braid | meta_braid.';
COMMENT ON COLUMN tr_strand.decision_id IS 'The order (work item) id: the dm_strand decision id, or the exit order''s own id.';
COMMENT ON COLUMN tr_strand.route_hint IS 'The venue the order was sent to.';
COMMENT ON COLUMN tr_strand.tr_predict IS '{fill_prob, slip_bps, latency_ms} predicted by curation.';
COMMENT ON COLUMN tr_strand.fills IS '[{fill_id, px, qty, fee, ts, venue}], fill_id being the venue''s trade id.';
COMMENT ON COLUMN tr_strand.exec_metrics IS
    '{status, venue, requested_qty, filled_qty, avg_px, slip_real_bps, latency_ms, fees, client_order_id, reason}; status and venue are always present.';
COMMENT ON COLUMN tr_strand.lesson_metadata IS '{lessons_applied, confidence_boost, curators: {name: {score, weight, predictions}}}.';

COMMIT;
