-- Deploy trader:core/peer_strands
-- The peer modules own dm_strand, rm_strand and md_strand. In a real deployment they
-- may exist already; the Trader then uses them as they are. Each table it has to make
-- itself is marked by its COMMENT, so that revert drops only those.
BEGIN;

DO $$
BEGIN
    IF to_regclass('public.dm_strand') IS NULL THEN
        CREATE TABLE public.dm_strand (
            id              text PRIMARY KEY DEFAULT tr_ulid(),
            lifecycle_id    text,
            parent_id       text,
            module          text DEFAULT 'dm',
            kind            text,
            symbol          text,
            timeframe       text,
            session_bucket  text,
            regime          text,
            signal_strength numeric,
            order_spec      jsonb,
            tags            text[] NOT NULL DEFAULT '{}',
            created_at      timestamptz DEFAULT now(),
            updated_at      timestamptz DEFAULT now()
        );
        CREATE INDEX dm_strand_tags ON public.dm_strand USING gin (tags);
        CREATE INDEX dm_strand_symbol_time ON public.dm_strand (symbol, created_at DESC);
        COMMENT ON TABLE public.dm_strand IS
            'Created by the Trader module (peer_strands): Decision Maker strands. Rows tagged trader:execute are decisions for the Trader.';
        COMMENT ON COLUMN public.dm_strand.order_spec IS
            'side buy|sell, qty > 0, order_type market|limit, limit_px, tif ioc|gtc|day, venue, ref_px, stop_loss_px, take_profit_px, reduce_only.';
    END IF;

    IF to_regclass('public.rm_strand') IS NULL THEN
        CREATE TABLE public.rm_strand (
            id             text PRIMARY KEY DEFAULT tr_ulid(),
            lifecycle_id   text,
            parent_id      text,
            module         text DEFAULT 'rm',
            kind           text,
            symbol         text,
            timeframe      text,
            session_bucket text,
            regime         text,
            risk_update    jsonb,
            tags           text[] NOT NULL DEFAULT '{}',
            created_at     timestamptz DEFAULT now(),
            updated_at     timestamptz DEFAULT now()
        );
        CREATE INDEX rm_strand_tags ON public.rm_strand USING gin (tags);
        COMMENT ON TABLE public.rm_strand IS
            'Created by the Trader module (peer_strands): Risk Manager strands. Rows tagged tr:risk_update change the Trader''s risk state.';
        COMMENT ON COLUMN public.rm_strand.risk_update IS
            'scope (global or a symbol), trading_state active|reducing|halted, max_position_qty, max_order_qty, max_order_notional.';
    END IF;

    IF to_regclass('public.md_strand') IS NULL THEN
        CREATE TABLE public.md_strand (
            id             text PRIMARY KEY DEFAULT tr_ulid(),
            lifecycle_id   text,
            parent_id      text,
            module         text DEFAULT 'md',
            kind           text,
            symbol         text,
            timeframe      text,
            session_bucket text,
            regime         text,
            market_data    jsonb,
            tags           text[] NOT NULL DEFAULT '{}',
            created_at     timestamptz DEFAULT now(),
            updated_at     timestamptz DEFAULT now()
        );
        CREATE INDEX md_strand_tags ON public.md_strand USING gin (tags);
        CREATE INDEX md_strand_symbol_time ON public.md_strand (symbol, created_at DESC);
        COMMENT ON TABLE public.md_strand IS
            'Created by the Trader module (peer_strands): Market Data strands. Rows tagged tr:market_update are quotes for the Trader.';
        COMMENT ON COLUMN public.md_strand.market_data IS 'bid, ask, last, ts.';
    END IF;
END
$$;

COMMIT;
