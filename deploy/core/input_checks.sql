-- Deploy trader:core/input_checks
-- Input from the peers is JSON that the Trader must judge without ever raising: a
-- cast error inside a trigger would fail the peer's insert (and abort its
-- transaction). These helpers turn JSON into a value or NULL, and record what
-- could not be used, with a stable reason, where an operator sees it.
BEGIN;

-- A JSON number, or a string holding a plain decimal, as numeric; NULL for anything
-- else. 'NaN' and 'Infinity' are valid numerics in PostgreSQL but never prices or
-- quantities, so they are NULL here.
CREATE FUNCTION tr_json_numeric(p_value jsonb)
RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN jsonb_typeof(p_value) = 'number' THEN p_value::numeric
        WHEN jsonb_typeof(p_value) = 'string'
         AND p_value #>> '{}' ~ '^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?\s*$'
            THEN (p_value #>> '{}')::numeric
    END
$$;

COMMENT ON FUNCTION tr_json_numeric(jsonb) IS
    'A JSON number or numeric string as numeric; NULL for anything else (objects, NaN, Infinity, junk). Never raises.';

-- Decimal places of a value as written, ignoring trailing zeros: 1.50000000000 has 1.
CREATE FUNCTION tr_decimal_places(p_value numeric)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN p_value IS NULL OR p_value = 'NaN' OR p_value IN ('Infinity', '-Infinity') THEN NULL
                ELSE scale(trim_scale(p_value)) END
$$;

COMMENT ON FUNCTION tr_decimal_places(numeric) IS
    'Significant decimal places of a finite numeric (trailing zeros ignored); NULL for NULL, NaN and infinities.';

CREATE TABLE tr_unapplied_input (
    id           text PRIMARY KEY DEFAULT tr_ulid(),
    source_table text NOT NULL,
    strand_id    text NOT NULL,
    symbol       text,
    reason       text NOT NULL REFERENCES tr_reason_codes (code),
    detail       text NOT NULL,
    payload      jsonb,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX tr_unapplied_input_time ON tr_unapplied_input (created_at DESC);

COMMENT ON TABLE tr_unapplied_input IS
    'Peer input the Trader could not use (a bad quote, a bad risk update), with a stable reason code. The peer''s insert still succeeded.';
COMMENT ON COLUMN tr_unapplied_input.reason IS
    'Stable code, e.g. MISSING_SYMBOL, MISSING_PRICE, INVALID_PRICE, CROSSED_QUOTE, STALE_QUOTE, MARK_OUT_OF_RANGE (see tr_reason_codes and docs/orders.md).';

CREATE FUNCTION tr_record_unapplied(p_source_table text, p_strand_id text, p_symbol text,
                                    p_reason text, p_detail text, p_payload jsonb)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    INSERT INTO tr_unapplied_input (source_table, strand_id, symbol, reason, detail, payload)
    VALUES (p_source_table, p_strand_id, p_symbol, p_reason, p_detail, p_payload);
END
$$;

COMMENT ON FUNCTION tr_record_unapplied(text, text, text, text, text, jsonb) IS
    'Records a peer row the Trader did not apply, with its reason code and a sentence for the operator.';

REVOKE EXECUTE ON FUNCTION tr_json_numeric(jsonb), tr_decimal_places(numeric),
                           tr_record_unapplied(text, text, text, text, text, jsonb) FROM PUBLIC;
GRANT SELECT ON tr_unapplied_input TO tr_worker, tr_inspector;

COMMIT;
