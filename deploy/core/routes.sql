-- Deploy trader:core/routes
-- Routing is data: a tag is sent to the channels tr_routes names for it, by one
-- trigger function on every strand table. Adding a route is an INSERT.
BEGIN;

CREATE TABLE tr_routes (
    tag        text PRIMARY KEY,
    channel    text NOT NULL CHECK (channel ~ '^[a-z_][a-z0-9_]*$'),
    meaning    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE tr_routes IS
    'Which NOTIFY channel a strand tag is sent to. Channels are named after the receiving module.';

INSERT INTO tr_routes (tag, channel, meaning) VALUES
    ('trader:execute',      'trader_strand_notification',         'Decision Maker to Trader: execute this decision.'),
    ('tr:risk_update',      'trader_strand_notification',         'Risk Manager to Trader: risk limits or trading state changed.'),
    ('tr:market_update',    'trader_strand_notification',         'Market Data to Trader: a new quote for a symbol.'),
    ('dm:execution_report', 'decision_maker_strand_notification', 'Trader to Decision Maker: the outcome of an order.');

-- Rows without tags notify nobody, so the trigger does not even run for them.
-- The notifications a row change calls for, as rows, so the rule can be tested in
-- SQL (NOTIFY is never delivered inside a test's transaction). On UPDATE only a
-- change of tags or of exec_metrics->>'status' is news. The payload carries ids,
-- never the row: NOTIFY payloads are limited to 8000 bytes.
CREATE FUNCTION tr_route_notifications(p_table text, p_new jsonb, p_old jsonb DEFAULT NULL)
RETURNS TABLE (channel text, payload text)
LANGUAGE sql STABLE
AS $$
    SELECT r.channel,
           jsonb_build_object('strand_id', p_new->>'id',
                              'table',     p_table,
                              'module',    p_new->>'module',
                              'kind',      p_new->>'kind',
                              'tags',      (SELECT coalesce(jsonb_agg(t.tag), '[]'::jsonb)
                                              FROM (SELECT e.tag FROM jsonb_array_elements_text(
                                                        CASE WHEN jsonb_typeof(p_new->'tags') = 'array' THEN p_new->'tags' ELSE '[]'::jsonb END) e(tag)
                                                     WHERE length(e.tag) <= 64 LIMIT 32) t))::text
      FROM (SELECT DISTINCT t.channel
              FROM public.tr_routes t
             WHERE t.tag IN (SELECT jsonb_array_elements_text(
                                 CASE WHEN jsonb_typeof(p_new->'tags') = 'array' THEN p_new->'tags' ELSE '[]'::jsonb END))) r
     WHERE p_old IS NULL
        OR p_old->'tags' IS DISTINCT FROM p_new->'tags'
        OR p_old->'exec_metrics'->>'status' IS DISTINCT FROM p_new->'exec_metrics'->>'status'
     ORDER BY r.channel
$$;

COMMENT ON FUNCTION tr_route_notifications(text, jsonb, jsonb) IS
    'The (channel, payload) pairs a strand row change notifies: one per channel its tags route to; on UPDATE (p_old given) only when tags or exec_metrics->>''status'' changed.';

-- SECURITY DEFINER: on a peer's table the trigger runs as the peer's role, which may
-- read nothing of the Trader's. The rule sees only the columns it needs (never the
-- whole row: a report's row is large), and the status only when an update keeps the tags.
CREATE FUNCTION tr_route_notify()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    v_new jsonb := jsonb_build_object('id', NEW.id, 'module', left(NEW.module, 32), 'kind', left(NEW.kind, 32), 'tags', to_jsonb(NEW.tags));
    v_old jsonb;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        v_old := jsonb_build_object('id', OLD.id, 'module', left(OLD.module, 32), 'kind', left(OLD.kind, 32), 'tags', to_jsonb(OLD.tags));
        IF NEW.tags IS NOT DISTINCT FROM OLD.tags THEN
            v_new := v_new || jsonb_build_object('exec_metrics', jsonb_build_object('status', to_jsonb(NEW)->'exec_metrics'->'status'));
            v_old := v_old || jsonb_build_object('exec_metrics', jsonb_build_object('status', to_jsonb(OLD)->'exec_metrics'->'status'));
        END IF;
    END IF;
    PERFORM pg_notify(n.channel, n.payload) FROM tr_route_notifications(TG_TABLE_NAME, v_new, v_old) AS n;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION tr_route_notify() IS
    'Trigger on every strand table: sends the notifications tr_route_notifications computes for the row.';
REVOKE EXECUTE ON FUNCTION tr_route_notify() FROM PUBLIC;

CREATE TRIGGER tr_route_notify AFTER INSERT OR UPDATE ON dm_strand FOR EACH ROW
    WHEN (cardinality(NEW.tags) > 0) EXECUTE FUNCTION tr_route_notify();
CREATE TRIGGER tr_route_notify AFTER INSERT OR UPDATE ON rm_strand FOR EACH ROW
    WHEN (cardinality(NEW.tags) > 0) EXECUTE FUNCTION tr_route_notify();
CREATE TRIGGER tr_route_notify AFTER INSERT OR UPDATE ON md_strand FOR EACH ROW
    WHEN (cardinality(NEW.tags) > 0) EXECUTE FUNCTION tr_route_notify();
CREATE TRIGGER tr_route_notify AFTER INSERT OR UPDATE ON tr_strand FOR EACH ROW
    WHEN (cardinality(NEW.tags) > 0) EXECUTE FUNCTION tr_route_notify();

COMMIT;
