-- The tables of the specification, with every column type, default, index and trigger.
BEGIN;
SELECT plan(112);

-- tr_strand
SELECT has_table('tr_strand', 'tr_strand exists');
SELECT columns_are('tr_strand', ARRAY['id', 'lifecycle_id', 'parent_id', 'module', 'kind', 'symbol', 'timeframe',
    'session_bucket', 'regime', 'decision_id', 'order_spec', 'route_hint', 'tr_predict', 'fills', 'exec_metrics',
    'position_data', 'monitoring_state', 'lesson_metadata', 'tags', 'created_at', 'updated_at'],
    'tr_strand has exactly the columns of the specification');
SELECT col_is_pk('tr_strand', 'id', 'tr_strand.id is the primary key');
SELECT col_type_is('tr_strand', c, 'text', format('tr_strand.%s is text', c))
  FROM unnest(ARRAY['id', 'lifecycle_id', 'parent_id', 'module', 'kind', 'symbol', 'timeframe', 'session_bucket',
                    'regime', 'decision_id', 'route_hint']) AS c;
SELECT col_type_is('tr_strand', c, 'jsonb', format('tr_strand.%s is jsonb', c))
  FROM unnest(ARRAY['order_spec', 'tr_predict', 'fills', 'exec_metrics', 'position_data', 'monitoring_state',
                    'lesson_metadata']) AS c;
SELECT col_type_is('tr_strand', 'tags', 'text[]', 'tr_strand.tags is text[]');
SELECT col_type_is('tr_strand', 'created_at', 'timestamp with time zone', 'tr_strand.created_at is timestamptz');
SELECT col_type_is('tr_strand', 'updated_at', 'timestamp with time zone', 'tr_strand.updated_at is timestamptz');
SELECT col_default_is('tr_strand', 'module', 'tr'::text, 'tr_strand.module defaults to tr');
SELECT col_default_is('tr_strand', 'created_at', 'now()', 'tr_strand.created_at defaults to now()');
SELECT col_default_is('tr_strand', 'updated_at', 'now()', 'tr_strand.updated_at defaults to now()');
SELECT col_default_is('tr_strand', 'id', 'tr_ulid()', 'tr_strand.id defaults to a ULID');
SELECT has_index('tr_strand', 'tr_strand_symbol_time', ARRAY['symbol', 'created_at'], 'tr_strand is indexed by symbol and time');
SELECT has_index('tr_strand', 'tr_strand_lifecycle', 'lifecycle_id', 'tr_strand is indexed by lifecycle');
SELECT has_index('tr_strand', 'tr_strand_decision', 'decision_id', 'tr_strand is indexed by decision');
SELECT has_index('tr_strand', 'tr_strand_kind', 'kind', 'tr_strand is indexed by kind');
SELECT has_index('tr_strand', 'tr_strand_venue', $$((exec_metrics ->> 'venue'::text))$$, 'tr_strand is indexed by exec_metrics venue');
SELECT has_index('tr_strand', 'tr_strand_status', $$((exec_metrics ->> 'status'::text))$$, 'tr_strand is indexed by exec_metrics status');
SELECT has_index('tr_strand', 'tr_strand_lesson_metadata', 'lesson_metadata', 'tr_strand is indexed by lesson_metadata');
SELECT has_index('tr_strand', 'tr_strand_tags', 'tags', 'tr_strand is indexed by tags');
SELECT index_is_type('tr_strand', i, 'btree')
  FROM unnest(ARRAY['tr_strand_symbol_time', 'tr_strand_lifecycle', 'tr_strand_decision', 'tr_strand_kind',
                    'tr_strand_venue', 'tr_strand_status']) AS i;
SELECT index_is_type('tr_strand', 'tr_strand_lesson_metadata', 'gin');
SELECT index_is_type('tr_strand', 'tr_strand_tags', 'gin');
SELECT is((SELECT pg_get_indexdef('tr_strand_symbol_time'::regclass) LIKE '%(symbol, created_at DESC)'), true,
          'tr_strand_symbol_time orders time descending');

-- tr_positions
SELECT has_table('tr_positions', 'tr_positions exists');
SELECT columns_are('tr_positions', ARRAY['id', 'symbol', 'quantity', 'avg_price', 'unrealized_pnl', 'realized_pnl',
    'created_at', 'updated_at', 'avg_price_exact', 'realized_pnl_exact', 'mark_price', 'marked_at', 'cycle'],
    'tr_positions has the columns of the specification, the unrounded average and realized PnL, the mark and the open cycle');
SELECT col_is_pk('tr_positions', 'id', 'tr_positions.id is the primary key');
SELECT col_type_is('tr_positions', c, 'numeric(20,8)', format('tr_positions.%s is DECIMAL(20,8)', c))
  FROM unnest(ARRAY['quantity', 'avg_price', 'unrealized_pnl', 'realized_pnl']) AS c;
SELECT col_not_null('tr_positions', c, format('tr_positions.%s is NOT NULL', c))
  FROM unnest(ARRAY['symbol', 'quantity', 'avg_price', 'unrealized_pnl', 'realized_pnl']) AS c;
SELECT col_type_is('tr_positions', 'avg_price_exact', 'numeric', 'the unrounded average is unconstrained numeric');
SELECT col_type_is('tr_positions', 'realized_pnl_exact', 'numeric', 'the unrounded realized PnL is unconstrained numeric');
SELECT col_is_unique('tr_positions', 'symbol', 'one position per symbol');

-- tr_execution_performance
SELECT has_table('tr_execution_performance', 'tr_execution_performance exists');
SELECT columns_are('tr_execution_performance', ARRAY['id', 'execution_id', 'venue', 'symbol', 'execution_score',
    'slippage_bps', 'latency_ms', 'lesson_metadata', 'created_at'],
    'tr_execution_performance has exactly the columns of the specification');
SELECT col_is_pk('tr_execution_performance', 'id', 'tr_execution_performance.id is the primary key');
SELECT col_type_is('tr_execution_performance', 'execution_score', 'numeric(8,4)', 'execution_score is DECIMAL(8,4)');
SELECT col_type_is('tr_execution_performance', 'slippage_bps', 'numeric(8,4)', 'slippage_bps is DECIMAL(8,4)');
SELECT col_type_is('tr_execution_performance', 'latency_ms', 'integer', 'latency_ms is integer');
SELECT col_type_is('tr_execution_performance', 'lesson_metadata', 'jsonb', 'lesson_metadata is jsonb');
SELECT col_not_null('tr_execution_performance', c, format('tr_execution_performance.%s is NOT NULL', c))
  FROM unnest(ARRAY['execution_id', 'venue', 'symbol', 'execution_score', 'slippage_bps', 'latency_ms']) AS c;

-- tr_curator_performance
SELECT has_table('tr_curator_performance', 'tr_curator_performance exists');
SELECT columns_are('tr_curator_performance', ARRAY['id', 'curator_type', 'execution_id', 'contribution_score',
    'accuracy_score', 'learning_metadata', 'created_at', 'weighed_at'],
    'tr_curator_performance has the columns of the specification and when the weight update counted it');
SELECT col_type_is('tr_curator_performance', 'contribution_score', 'numeric(8,4)', 'contribution_score is DECIMAL(8,4)');
SELECT col_type_is('tr_curator_performance', 'accuracy_score', 'numeric(8,4)', 'accuracy_score is DECIMAL(8,4)');
SELECT col_type_is('tr_curator_performance', 'learning_metadata', 'jsonb', 'learning_metadata is jsonb');

-- tr_curator_weights
SELECT has_table('tr_curator_weights', 'tr_curator_weights exists');
SELECT columns_are('tr_curator_weights', ARRAY['id', 'curator_type', 'weight', 'confidence', 'lesson_adjustments',
    'created_at', 'updated_at'], 'tr_curator_weights has exactly the columns of the specification');
SELECT col_type_is('tr_curator_weights', 'weight', 'numeric(8,4)', 'weight is DECIMAL(8,4)');
SELECT col_type_is('tr_curator_weights', 'confidence', 'numeric(8,4)', 'confidence is DECIMAL(8,4)');
SELECT col_is_unique('tr_curator_weights', 'curator_type', 'one current weight per curator');
SELECT set_eq('SELECT curator_type FROM tr_curator_weights',
              ARRAY['execution_curator', 'venue_curator', 'risk_curator'],
              'tr_curator_weights starts with the three curators of the specification');

-- peer strand tables (minimal contract)
SELECT has_column(t, c, format('%s has %s', t, c))
  FROM unnest(ARRAY['dm_strand', 'rm_strand', 'md_strand']) AS t,
       unnest(ARRAY['id', 'lifecycle_id', 'parent_id', 'module', 'kind', 'symbol', 'timeframe', 'session_bucket',
                    'regime', 'tags', 'created_at', 'updated_at']) AS c
 WHERE c IN ('id', 'tags', 'symbol', 'lifecycle_id');
SELECT col_type_is('dm_strand', 'order_spec', 'jsonb', 'dm_strand.order_spec is jsonb');
SELECT col_type_is('dm_strand', 'signal_strength', 'numeric', 'dm_strand.signal_strength is numeric');
SELECT col_type_is('rm_strand', 'risk_update', 'jsonb', 'rm_strand.risk_update is jsonb');
SELECT col_type_is('md_strand', 'market_data', 'jsonb', 'md_strand.market_data is jsonb');
SELECT col_type_is(t, 'tags', 'text[]', format('%s.tags is text[]', t)) FROM unnest(ARRAY['dm_strand', 'rm_strand', 'md_strand']) AS t;

-- triggers
SELECT has_trigger(t, 'tr_route_notify', format('%s routes its notifications by tag', t))
  FROM unnest(ARRAY['dm_strand', 'rm_strand', 'md_strand', 'tr_strand']) AS t;
SELECT trigger_is(t, 'tr_route_notify', 'tr_route_notify', format('%s uses the one routing function', t))
  FROM unnest(ARRAY['dm_strand', 'rm_strand', 'md_strand', 'tr_strand']) AS t;
SELECT has_trigger('dm_strand', 'tr_enqueue_decision', 'decisions become work items in the same transaction');

SELECT * FROM finish();
ROLLBACK;
