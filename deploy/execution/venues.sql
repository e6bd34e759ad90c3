-- Deploy trader:execution/venues
-- Venues are rows of configuration; credentials never live in the database (the
-- worker reads them from its environment). Two paper venues with different fees,
-- impact and latency are seeded so that routing has a real choice.
BEGIN;

CREATE TABLE tr_venues (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
    adapter     text NOT NULL CHECK (adapter IN ('paper', 'ccxt')),
    enabled     boolean NOT NULL DEFAULT true,
    params      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(params) = 'object'),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE tr_venues IS
    'Venues the worker can route to. params: for paper, fee_bps, impact_bps_per_unit, latency_ms, slippage_multipliers {symbol: factor}; for ccxt, exchange, sandbox, options. No credentials here.';

INSERT INTO tr_venues (name, adapter, params, description) VALUES
    ('paper_a', 'paper', '{"fee_bps": 2, "impact_bps_per_unit": 1, "latency_ms": 5, "slippage_multipliers": {}}',
     'Simulated exchange: low fees, fast, more price impact.'),
    ('paper_b', 'paper', '{"fee_bps": 6, "impact_bps_per_unit": 0.2, "latency_ms": 40, "slippage_multipliers": {}}',
     'Simulated exchange: higher fees, slower, deep book (little impact).');

INSERT INTO tr_settings (key, value, description) VALUES
    ('worker.default_venue', 'paper_a', 'The venue an order goes to when neither it nor curation names one.');

GRANT SELECT ON tr_venues TO tr_worker, tr_inspector;

COMMIT;
