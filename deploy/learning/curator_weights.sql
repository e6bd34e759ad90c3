-- Deploy trader:learning/curator_weights
BEGIN;

CREATE TABLE tr_curator_weights (
    id                 text PRIMARY KEY DEFAULT tr_ulid(),
    curator_type       text NOT NULL,
    weight             decimal(8,4) NOT NULL,
    confidence         decimal(8,4) NOT NULL,
    lesson_adjustments jsonb,
    created_at         timestamptz DEFAULT now(),
    updated_at         timestamptz DEFAULT now(),
    CONSTRAINT tr_curator_weights_curator_type_key UNIQUE (curator_type)
);

COMMENT ON TABLE tr_curator_weights IS
    'The current weight of each curator in curation. Weights are normalized to a mean of 1, so a new curator starts at 1.';
COMMENT ON COLUMN tr_curator_weights.confidence IS 'In [0, 1]: how much evidence stands behind the weight.';
COMMENT ON CONSTRAINT tr_curator_weights_curator_type_key ON tr_curator_weights IS 'Addition: one current row per curator.';

INSERT INTO tr_curator_weights (curator_type, weight, confidence, lesson_adjustments) VALUES
    ('execution_curator', 1.0, 0.5, '{}'),
    ('venue_curator',     1.0, 0.5, '{}'),
    ('risk_curator',      1.0, 0.5, '{}');

COMMIT;
