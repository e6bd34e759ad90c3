-- Deploy trader:intake/quotes
-- Market data: an md_strand row tagged tr:market_update becomes the symbol's latest
-- quote and re-marks its position in the Market Data module's own transaction. A
-- quote that cannot be used is recorded in tr_unapplied_input, never raised: the
-- peer's insert must succeed.
BEGIN;

INSERT INTO tr_settings (key, value, description) VALUES
    ('quotes.max_clock_skew', '5 minutes', 'How far ahead of the database clock a quote''s ts may be before the quote is refused as INVALID_TIMESTAMP (an interval).');


CREATE TABLE tr_quotes (
    symbol     text PRIMARY KEY,
    bid        numeric,
    ask        numeric,
    last       numeric,
    mark       numeric NOT NULL CHECK (mark > 0),
    quote_ts   timestamptz NOT NULL,
    strand_id  text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

COMMENT ON TABLE tr_quotes IS 'The latest usable quote per symbol, from md_strand rows tagged tr:market_update.';
COMMENT ON COLUMN tr_quotes.mark IS 'The mid of bid and ask when both are present, else last: the price positions are marked at.';
COMMENT ON COLUMN tr_quotes.quote_ts IS 'The quote''s own ts (ISO 8601, or epoch seconds or milliseconds), else the row''s created_at. An older quote never replaces a newer one.';
COMMENT ON COLUMN tr_quotes.strand_id IS 'The md_strand row the quote came from.';

CREATE FUNCTION tr_assert_price(p_name text, p_px numeric)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF p_px IS NULL OR p_px = 'NaN' OR p_px IN ('Infinity', '-Infinity') OR p_px <= 0 OR p_px >= 1e12 THEN
        RAISE EXCEPTION USING ERRCODE = '22023',
            MESSAGE = format('%s must be a positive finite price below 10^12, got %s', p_name, coalesce(p_px::text, 'NULL')),
            HINT = 'Prices are positive numbers.';
    END IF;
END
$$;

COMMENT ON FUNCTION tr_assert_price(text, numeric) IS 'Raises 22023 unless p_px is a usable price.';

-- The one rule for the price an order meets now: the ask for a buy, the bid for a
-- sell, else the last trade, else the mark. Paper fills, monitor exits, notional
-- checks and curation all ask it, so they can never disagree.
CREATE FUNCTION tr_touch_price(p_quote tr_quotes, p_side text)
RETURNS numeric
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE p_side WHEN 'buy'  THEN coalesce(p_quote.ask, p_quote.last, p_quote.mark)
                       WHEN 'sell' THEN coalesce(p_quote.bid, p_quote.last, p_quote.mark) END
$$;

COMMENT ON FUNCTION tr_touch_price(tr_quotes, text) IS
    'The price an order on p_side meets at this quote: ask for a buy, bid for a sell, else last, else mark; NULL without a quote.';

-- Marks the position (if any) at p_mark, under the position's row lock. Returns the
-- position, or NULL when the symbol has none.
CREATE FUNCTION tr_remark(p_symbol text, p_mark numeric, p_at timestamptz)
RETURNS tr_positions
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_pos tr_positions;
BEGIN
    UPDATE tr_positions
       SET mark_price = p_mark,
           marked_at = p_at,
           unrealized_pnl = round((p_mark - avg_price_exact) * quantity, 8),
           updated_at = clock_timestamp()
     WHERE symbol = p_symbol
    RETURNING * INTO v_pos;
    RETURN v_pos;
END
$$;

COMMENT ON FUNCTION tr_remark(text, numeric, timestamptz) IS
    'Sets a position''s mark and unrealized PnL = (mark - avg_price) x quantity; NULL when the symbol has no position.';

-- Unrealized PnL must fit the position's DECIMAL(20,8) column.
CREATE FUNCTION tr_mark_fits(p_symbol text, p_mark numeric)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT coalesce((SELECT abs((p_mark - avg_price_exact) * quantity) < 1e12 FROM public.tr_positions WHERE symbol = p_symbol), true)
$$;

COMMENT ON FUNCTION tr_mark_fits(text, numeric) IS 'Whether marking the symbol''s position at p_mark keeps unrealized PnL within DECIMAL(20,8).';

CREATE FUNCTION tr_mark_position(p_symbol text, p_mark_px numeric)
RETURNS tr_positions
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_pos tr_positions;
BEGIN
    PERFORM tr_assert_price('mark price', p_mark_px);
    IF NOT tr_mark_fits(p_symbol, p_mark_px) THEN
        RAISE EXCEPTION USING ERRCODE = '22003', MESSAGE = format('marking %s at %s puts unrealized PnL out of range', p_symbol, p_mark_px),
            HINT = 'Unrealized PnL must stay below 10^12 (DECIMAL(20,8)); check the price.';
    END IF;
    v_pos := tr_remark(p_symbol, p_mark_px, clock_timestamp());
    IF v_pos.id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'P0002', MESSAGE = format('no position in %s to mark', coalesce(quote_literal(p_symbol), 'NULL')),
            HINT = 'SELECT symbol FROM tr_positions lists the positions.';
    END IF;
    RETURN v_pos;
END
$$;

COMMENT ON FUNCTION tr_mark_position(text, numeric) IS
    'Marks a symbol''s position by hand at p_mark_px and returns it; raises on a bad price or an unknown symbol.';

-- Parses a quote into (symbol, bid, ask, last, mark, ts) or a reason code, without
-- ever raising.
CREATE FUNCTION tr_parse_quote(p_symbol text, p_data jsonb, p_default_ts timestamptz,
    OUT symbol text, OUT bid numeric, OUT ask numeric, OUT last numeric, OUT mark numeric,
    OUT quote_ts timestamptz, OUT reason text, OUT detail text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_key text;
    v_px  numeric;
    v_ts  jsonb;
BEGIN
    symbol := coalesce(nullif(btrim(p_symbol), ''), nullif(btrim(p_data->>'symbol'), ''));
    IF symbol IS NULL THEN
        reason := 'MISSING_SYMBOL'; detail := 'the quote names no symbol (row column symbol or market_data.symbol)';
        RETURN;
    ELSIF length(symbol) > 64 THEN
        -- Symbols are keys (tr_quotes, tr_positions): a longer one would fail the peer's insert on the index.
        reason := 'INVALID_SYMBOL'; detail := format('symbol: longer than 64 characters (%s...)', left(symbol, 32));
        symbol := NULL;
        RETURN;
    END IF;
    IF jsonb_typeof(p_data) IS DISTINCT FROM 'object' THEN
        reason := 'INVALID_MARKET_DATA'; detail := 'market_data is not a JSON object';
        RETURN;
    END IF;
    FOREACH v_key IN ARRAY ARRAY['bid', 'ask', 'last'] LOOP
        CONTINUE WHEN coalesce(jsonb_typeof(p_data->v_key), 'null') = 'null';
        v_px := tr_json_numeric(p_data->v_key);
        IF v_px IS NULL OR v_px <= 0 OR v_px >= 1e12 THEN
            reason := 'INVALID_PRICE'; detail := format('%s is not a positive price below 10^12: %s', v_key, left((p_data->v_key)::text, 64));
            RETURN;
        END IF;
        CASE v_key WHEN 'bid' THEN bid := v_px; WHEN 'ask' THEN ask := v_px; ELSE last := v_px; END CASE;
    END LOOP;
    IF bid IS NOT NULL AND ask IS NOT NULL THEN
        IF bid > ask THEN
            reason := 'CROSSED_QUOTE'; detail := format('bid %s is above ask %s', bid, ask);
            RETURN;
        END IF;
        mark := trim_scale((bid + ask) / 2);
    ELSIF last IS NOT NULL THEN
        mark := last;
    ELSE
        reason := 'MISSING_PRICE'; detail := 'neither bid and ask nor last is given';
        RETURN;
    END IF;

    v_ts := p_data->'ts';
    IF coalesce(jsonb_typeof(v_ts), 'null') = 'null' THEN
        quote_ts := p_default_ts;
    ELSIF jsonb_typeof(v_ts) = 'number' AND (v_ts::numeric) > 0 AND (v_ts::numeric) < 1e14 THEN
        -- Epoch seconds or milliseconds: no market time of this era is below 10^11 ms.
        quote_ts := to_timestamp(CASE WHEN v_ts::numeric >= 1e11 THEN v_ts::numeric / 1000 ELSE v_ts::numeric END);
    ELSIF jsonb_typeof(v_ts) = 'string'
          AND (v_ts #>> '{}') ~ '^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?$' THEN
        BEGIN
            quote_ts := (v_ts #>> '{}')::timestamptz;
        EXCEPTION WHEN data_exception THEN
            quote_ts := NULL;
        END;
    END IF;
    IF quote_ts IS NULL THEN
        reason := 'INVALID_TIMESTAMP'; detail := format('ts is neither ISO 8601 nor epoch seconds or milliseconds: %s', v_ts);
    ELSIF quote_ts > clock_timestamp() + tr_setting('quotes.max_clock_skew')::interval THEN
        -- A quote from the future would make every real quote after it look stale.
        reason := 'INVALID_TIMESTAMP';
        detail := format('ts %s is ahead of the database clock by more than quotes.max_clock_skew', quote_ts);
    END IF;
END
$$;

COMMENT ON FUNCTION tr_parse_quote(text, jsonb, timestamptz) IS
    'A quote''s symbol, prices, mark and time, or a reason code (MISSING_SYMBOL, INVALID_MARKET_DATA, INVALID_PRICE, CROSSED_QUOTE, MISSING_PRICE, INVALID_TIMESTAMP) and detail. Never raises.';

-- Lock order, as everywhere: the position first, then the quote.
CREATE FUNCTION tr_apply_market_update()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    q       record;
    v_prev  timestamptz;
BEGIN
    q := tr_parse_quote(NEW.symbol, NEW.market_data, coalesce(NEW.created_at, now()));
    IF q.reason IS NULL THEN
        PERFORM 1 FROM tr_positions WHERE symbol = q.symbol FOR UPDATE;
        SELECT quote_ts INTO v_prev FROM tr_quotes WHERE symbol = q.symbol;
        IF v_prev > q.quote_ts THEN
            q.reason := 'STALE_QUOTE';
            q.detail := format('quote time %s is older than the current quote''s %s', q.quote_ts, v_prev);
        ELSIF NOT tr_mark_fits(q.symbol, q.mark) THEN
            q.reason := 'MARK_OUT_OF_RANGE';
            q.detail := format('marking the position at %s puts unrealized PnL beyond DECIMAL(20,8)', q.mark);
        END IF;
    END IF;
    IF q.reason IS NOT NULL THEN
        PERFORM tr_record_unapplied(TG_TABLE_NAME, NEW.id, q.symbol, q.reason, q.detail, NEW.market_data);
        RETURN NULL;
    END IF;

    PERFORM tr_remark(q.symbol, q.mark, q.quote_ts);
    INSERT INTO tr_quotes AS t (symbol, bid, ask, last, mark, quote_ts, strand_id)
    VALUES (q.symbol, q.bid, q.ask, q.last, q.mark, q.quote_ts, NEW.id)
    ON CONFLICT (symbol) DO UPDATE
       SET bid = EXCLUDED.bid, ask = EXCLUDED.ask, last = EXCLUDED.last, mark = EXCLUDED.mark,
           quote_ts = EXCLUDED.quote_ts, strand_id = EXCLUDED.strand_id, updated_at = clock_timestamp()
     WHERE t.quote_ts <= EXCLUDED.quote_ts;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION tr_apply_market_update() IS
    'Trigger on md_strand: a usable tr:market_update quote becomes the latest quote and re-marks the position; an unusable one is recorded in tr_unapplied_input.';

CREATE TRIGGER tr_apply_market_update
    AFTER INSERT ON md_strand
    FOR EACH ROW
    WHEN (NEW.tags @> ARRAY['tr:market_update']::text[])
    EXECUTE FUNCTION tr_apply_market_update();

REVOKE EXECUTE ON FUNCTION tr_assert_price(text, numeric), tr_remark(text, numeric, timestamptz), tr_mark_fits(text, numeric),
                           tr_mark_position(text, numeric), tr_parse_quote(text, jsonb, timestamptz),
                           tr_apply_market_update() FROM PUBLIC;
GRANT SELECT ON tr_quotes TO tr_worker, tr_inspector;

COMMIT;
