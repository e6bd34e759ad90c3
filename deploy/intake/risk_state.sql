-- Deploy trader:intake/risk_state
-- The Risk Manager speaks through rm_strand rows tagged tr:risk_update. Each update
-- changes the keys it names for its scope (global or a symbol); the latest value of
-- each key wins, and JSON null lifts a limit. With no update at all, trading is
-- active and unlimited. An update that cannot be used is recorded, never raised.
BEGIN;

CREATE TABLE tr_risk_state (
    scope              text PRIMARY KEY,
    trading_state      text NOT NULL DEFAULT 'active' CHECK (trading_state IN ('active', 'reducing', 'halted')),
    max_position_qty   numeric CHECK (max_position_qty >= 0),
    max_order_qty      numeric CHECK (max_order_qty >= 0),
    max_order_notional numeric CHECK (max_order_notional >= 0),
    strand_id          text NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);

COMMENT ON TABLE tr_risk_state IS
    'Risk limits and trading state per scope (''global'' or a symbol), from rm_strand rows tagged tr:risk_update. No row means active and unlimited.';
COMMENT ON COLUMN tr_risk_state.strand_id IS 'The latest rm_strand row applied to this scope.';

-- Parses a risk update into the keys it sets, or a reason code; never raises.
CREATE FUNCTION tr_parse_risk_update(p_data jsonb, OUT scope text, OUT changes jsonb, OUT reason text, OUT detail text)
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_key text;
    v_num numeric;
BEGIN
    changes := '{}';
    IF jsonb_typeof(p_data) IS DISTINCT FROM 'object' THEN
        reason := 'INVALID_RISK_UPDATE'; detail := 'risk_update is not a JSON object';
        RETURN;
    END IF;
    scope := nullif(btrim(p_data->>'scope'), '');
    IF scope IS NULL OR jsonb_typeof(p_data->'scope') <> 'string' THEN
        reason := 'MISSING_SCOPE'; detail := 'scope must be ''global'' or a symbol';
        scope := NULL;
        RETURN;
    ELSIF length(scope) > 64 THEN
        -- The scope is tr_risk_state's key: a longer one would fail the peer's insert on the index.
        reason := 'MISSING_SCOPE'; detail := format('scope: longer than 64 characters (%s...)', left(scope, 32));
        scope := NULL;
        RETURN;
    END IF;
    IF p_data ? 'trading_state' THEN
        IF coalesce(p_data->>'trading_state', '') NOT IN ('active', 'reducing', 'halted') THEN
            reason := 'INVALID_TRADING_STATE'; detail := format('trading_state must be active, reducing or halted, got %s', p_data->'trading_state');
            RETURN;
        END IF;
        changes := changes || jsonb_build_object('trading_state', p_data->>'trading_state');
    END IF;
    FOREACH v_key IN ARRAY ARRAY['max_position_qty', 'max_order_qty', 'max_order_notional'] LOOP
        CONTINUE WHEN NOT p_data ? v_key;
        IF jsonb_typeof(p_data->v_key) = 'null' THEN
            changes := changes || jsonb_build_object(v_key, NULL);
            CONTINUE;
        END IF;
        v_num := tr_json_numeric(p_data->v_key);
        IF v_num IS NULL OR v_num < 0 THEN
            reason := 'INVALID_LIMIT'; detail := format('%s must be a number >= 0 or null, got %s', v_key, p_data->v_key);
            RETURN;
        END IF;
        changes := changes || jsonb_build_object(v_key, v_num);
    END LOOP;
    IF changes = '{}' THEN
        reason := 'EMPTY_RISK_UPDATE'; detail := 'the update names none of trading_state, max_position_qty, max_order_qty, max_order_notional';
    END IF;
END
$$;

COMMENT ON FUNCTION tr_parse_risk_update(jsonb) IS
    'The scope and the keys a risk update sets, or a reason code (INVALID_RISK_UPDATE, MISSING_SCOPE, INVALID_TRADING_STATE, INVALID_LIMIT, EMPTY_RISK_UPDATE). Never raises.';

CREATE FUNCTION tr_apply_risk_update()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    u record;
BEGIN
    u := tr_parse_risk_update(NEW.risk_update);
    IF u.reason IS NOT NULL THEN
        PERFORM tr_record_unapplied(TG_TABLE_NAME, NEW.id, coalesce(u.scope, left(NEW.symbol, 64)), u.reason, u.detail, NEW.risk_update);
        RETURN NULL;
    END IF;
    INSERT INTO tr_risk_state AS r (scope, trading_state, max_position_qty, max_order_qty, max_order_notional, strand_id)
    VALUES (u.scope, coalesce(u.changes->>'trading_state', 'active'), (u.changes->>'max_position_qty')::numeric,
            (u.changes->>'max_order_qty')::numeric, (u.changes->>'max_order_notional')::numeric, NEW.id)
    ON CONFLICT (scope) DO UPDATE
       SET trading_state      = CASE WHEN u.changes ? 'trading_state' THEN EXCLUDED.trading_state ELSE r.trading_state END,
           max_position_qty   = CASE WHEN u.changes ? 'max_position_qty' THEN EXCLUDED.max_position_qty ELSE r.max_position_qty END,
           max_order_qty      = CASE WHEN u.changes ? 'max_order_qty' THEN EXCLUDED.max_order_qty ELSE r.max_order_qty END,
           max_order_notional = CASE WHEN u.changes ? 'max_order_notional' THEN EXCLUDED.max_order_notional ELSE r.max_order_notional END,
           strand_id          = EXCLUDED.strand_id,
           updated_at         = clock_timestamp();
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION tr_apply_risk_update() IS
    'Trigger on rm_strand: a usable tr:risk_update changes the keys it names for its scope; an unusable one is recorded in tr_unapplied_input.';

CREATE TRIGGER tr_apply_risk_update
    AFTER INSERT ON rm_strand
    FOR EACH ROW
    WHEN (NEW.tags @> ARRAY['tr:risk_update']::text[])
    EXECUTE FUNCTION tr_apply_risk_update();

REVOKE EXECUTE ON FUNCTION tr_parse_risk_update(jsonb), tr_apply_risk_update() FROM PUBLIC;
GRANT SELECT ON tr_risk_state TO tr_worker, tr_inspector;

COMMIT;
