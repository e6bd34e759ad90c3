-- Deploy trader:core/codes
-- Order statuses and reason codes, defined once. Every status a report carries is a
-- value of tr_order_status; every reason the Trader writes (on an order or on input it
-- did not apply) is a row of tr_reason_codes, and the tables in docs/orders.md are
-- made from these rows (make docs), so the code and the docs cannot drift.
BEGIN;

CREATE TYPE tr_order_status AS ENUM
    ('received', 'working', 'partially_filled', 'filled', 'cancelled', 'rejected', 'failed');

COMMENT ON TYPE tr_order_status IS
    'The status of an order: received (not yet reported by a venue), then the six statuses of execution reports.';

CREATE TABLE tr_statuses (
    status  tr_order_status PRIMARY KEY,
    final   boolean NOT NULL,
    meaning text NOT NULL
);

COMMENT ON TABLE tr_statuses IS 'What each order status means and whether it is final (a final status never changes).';

INSERT INTO tr_statuses (status, final, meaning) VALUES
    ('received',         false, 'accepted into the inbox, not yet answered by a venue; never reported'),
    ('working',          false, 'resting at the venue, nothing filled yet'),
    ('partially_filled', false, 'resting at the venue, part of it filled'),
    ('filled',           true,  'the whole order quantity filled'),
    ('cancelled',        true,  'cancelled at the venue (by the Trader, the venue or an operator), perhaps after partial fills'),
    ('rejected',         true,  'refused before or by the venue; reason says why'),
    ('failed',           true,  'could not be executed or its outcome could not be established; reason says why');

CREATE FUNCTION tr_status_is_final(p_status tr_order_status)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN (
        SELECT final FROM public.tr_statuses WHERE status = p_status);
END
$$;

COMMENT ON FUNCTION tr_status_is_final(tr_order_status) IS 'Whether a status is final: filled, cancelled, rejected, failed (from tr_statuses).';

CREATE TABLE tr_reason_codes (
    code     text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9_]*$'),
    seq      integer GENERATED ALWAYS AS IDENTITY UNIQUE,
    applies  text NOT NULL CHECK (applies IN ('order', 'input')),
    stage    text NOT NULL,
    meaning  text NOT NULL
);

COMMENT ON COLUMN tr_reason_codes.seq IS 'The order codes are listed in: within the pre-trade stage, the order the checks are made in.';
COMMENT ON TABLE tr_reason_codes IS
    'Every stable reason code: on an order (a rejected or failed report) or on peer input that was not applied (tr_unapplied_input). stage says where it is decided.';

INSERT INTO tr_reason_codes (code, applies, stage, meaning) VALUES
    ('INVALID_ORDER_SPEC',     'order', 'intake',    'the decision is not usable; detail names the field: missing or non-positive qty, NaN or Infinity, more than 8 decimal places, an unknown side, order_type (market, limit) or tif (ioc, gtc, day), a limit order without limit_px, a reduce_only that is not a boolean, a stop-loss on the wrong side of the take-profit, no symbol, or a text longer than its bound (symbol, venue, timeframe, session_bucket, regime 64; id and lifecycle_id 128; kind and module 32; at most 32 tags of 64)'),
    ('TRADING_HALTED',         'order', 'pre-trade', 'the trading state is halted, globally or for the symbol (also the reason of working orders cancelled by a halt)'),
    ('REDUCE_ONLY_VIOLATION',  'order', 'pre-trade', 'the state is reducing, or the order is reduce_only, and it would increase or flip the position'),
    ('QTY_EXCEEDS_MAX',        'order', 'pre-trade', 'qty is above max_order_qty'),
    ('NO_MARKET_DATA',         'order', 'pre-trade', 'a price is needed (max_order_notional on a market order, a paper fill) and there is no quote'),
    ('NOTIONAL_EXCEEDS_MAX',   'order', 'pre-trade', 'qty x price is above max_order_notional; the price is the limit price, or for a market order the touch (ask for a buy, bid for a sell)'),
    ('POSITION_EXCEEDS_MAX',   'order', 'pre-trade', 'the position after a full fill would be beyond max_position_qty (an order that reduces a position already past it passes)'),
    ('UNKNOWN_ORDER',          'order', 'pre-trade', 'the work item named does not exist'),
    ('UNKNOWN_VENUE',          'order', 'curation',  'the decision names a venue that is not configured, enabled and served by the worker'),
    ('CURATOR_REJECTED',       'order', 'curation',  'the combined, lesson-adjusted score is below curation.threshold, lessons scaled the quantity to zero, or no curator could judge'),
    ('NOT_MARKETABLE',         'order', 'venue',     'an ioc limit order that does not cross the touch'),
    ('INSUFFICIENT_LIQUIDITY', 'order', 'venue',     'the paper venue''s impact would take the price past the book'),
    ('INSUFFICIENT_FUNDS',     'order', 'venue',     'the exchange refused the order for lack of funds'),
    ('INVALID_ORDER',          'order', 'venue',     'the exchange refused the order as invalid'),
    ('BAD_SYMBOL',             'order', 'venue',     'the exchange does not list the symbol'),
    ('VENUE_AUTH_ERROR',       'order', 'venue',     'the exchange refused the credentials'),
    ('INVALID_CLIENT_ORDER_ID','order', 'venue',     'the order id cannot be expressed as the exchange''s client order id'),
    ('VENUE_REJECTED',         'order', 'venue',     'the venue rejected the order without a more specific reason'),
    ('VENUE_ERROR',            'order', 'venue',     'any other venue error, or an order not found at the venue after a network failure (not placed; not resent)'),
    ('CANCELLED_BY_CLIENT',    'order', 'venue',     'cancelled on the Trader''s request'),
    ('UNKNOWN_AT_VENUE',       'order', 'venue',     'the order may be at the venue but cannot be looked up; never resent; an operator must check it at the exchange'),
    ('INVALID_VENUE_REPORT',   'order', 'report',    'the venue''s answer could not be recorded (a fill that contradicts an earlier one, over-fills the order, or is not a valid number); detail says why'),
    ('PROCESSING_ERROR',       'order', 'worker',    'handling the order failed inbox.max_attempts times; detail holds the last error; listed in tr_dead_letters'),
    ('CANCELLED_BY_OPERATOR',  'order', 'operator',  'an operator asked for the cancel (tr_request_cancel, trader orders cancel); the worker cancelled it at the venue; the why is in tr_operator_actions'),
    ('NEVER_PLACED',           'order', 'operator',  'an order failed UNKNOWN_AT_VENUE that an operator found was never placed at the exchange (trader orders resolve --never-placed); not resent'),
    ('MISSING_SYMBOL',         'input', 'market data', 'the quote names no symbol (row column or market_data.symbol)'),
    ('INVALID_SYMBOL',         'input', 'market data', 'the symbol is longer than 64 characters'),
    ('INVALID_MARKET_DATA',    'input', 'market data', 'market_data is not a JSON object'),
    ('INVALID_PRICE',          'input', 'market data', 'bid, ask or last is not a positive number below 10^12 (negative, zero, NaN, text, an object)'),
    ('CROSSED_QUOTE',          'input', 'market data', 'bid above ask'),
    ('MISSING_PRICE',          'input', 'market data', 'neither bid and ask nor last'),
    ('INVALID_TIMESTAMP',      'input', 'market data', 'ts is neither ISO 8601 nor epoch seconds or milliseconds, or is ahead of the database clock by more than quotes.max_clock_skew'),
    ('STALE_QUOTE',            'input', 'market data', 'ts is older than the symbol''s current quote'),
    ('MARK_OUT_OF_RANGE',      'input', 'market data', 'marking the position at this price would put its unrealized PnL beyond DECIMAL(20,8)'),
    ('INVALID_RISK_UPDATE',    'input', 'risk update', 'risk_update is not a JSON object'),
    ('MISSING_SCOPE',          'input', 'risk update', 'scope is missing, not a string, or longer than 64 characters'),
    ('INVALID_TRADING_STATE',  'input', 'risk update', 'trading_state is not active, reducing or halted'),
    ('INVALID_LIMIT',          'input', 'risk update', 'a limit is not a number >= 0 or null'),
    ('EMPTY_RISK_UPDATE',      'input', 'risk update', 'the update names no key the Trader knows');

REVOKE EXECUTE ON FUNCTION tr_status_is_final(tr_order_status) FROM PUBLIC;
GRANT SELECT ON tr_statuses, tr_reason_codes TO tr_worker, tr_inspector;

COMMIT;
