"""NOTIFY delivery through real connections: what the routing trigger promises a
listening module."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from conftest import drain
from trader.db import connect

DECISION = {"side": "buy", "qty": "1", "order_type": "market"}


def insert_decision(conn, strand_id: str, tags=("trader:execute",)) -> None:
    conn.execute(
        "INSERT INTO dm_strand (id, module, kind, symbol, order_spec, tags) VALUES (%s, 'dm', 'decision', 'BTC-USD', %s, %s)",
        (strand_id, Jsonb(DECISION), list(tags)),
    )


def test_decision_reaches_trader_once_after_commit(db, listener_factory):
    trader = listener_factory("trader_strand_notification")
    with db.transaction():
        insert_decision(db, "N-1", tags=("trader:execute", "priority:high"))
        assert drain(trader, 0.3) == [], "nothing is delivered before commit"
    received = drain(trader, 1.0)
    assert received == [{
        "channel": "trader_strand_notification",
        "strand_id": "N-1",
        "table": "dm_strand",
        "module": "dm",
        "kind": "decision",
        "tags": ["trader:execute", "priority:high"],
    }]


def test_rolled_back_decision_sends_nothing(db, listener_factory):
    trader = listener_factory("trader_strand_notification")
    with connect() as writer:
        insert_decision(writer, "N-2")
        writer.rollback()
    assert drain(trader, 0.5) == []
    assert db.execute("SELECT count(*) FROM tr_inbox WHERE id = 'N-2'").fetchone()[0] == 0


def test_update_without_news_sends_nothing(db, listener_factory):
    insert_decision(db, "N-3")
    trader = listener_factory("trader_strand_notification")
    db.execute("UPDATE dm_strand SET symbol = 'ETH-USD', updated_at = now() WHERE id = 'N-3'")
    assert drain(trader, 0.5) == []
    db.execute("UPDATE dm_strand SET tags = tags || 'priority:high'::text WHERE id = 'N-3'")
    assert [n["strand_id"] for n in drain(trader, 1.0)] == ["N-3"], "a change of tags is news"


def test_execution_report_reaches_decision_maker_once_per_status(db, listener_factory):
    dm = listener_factory("decision_maker_strand_notification")
    trader = listener_factory("trader_strand_notification")
    db.execute(
        "INSERT INTO tr_strand (id, kind, decision_id, exec_metrics, tags) "
        "VALUES ('R-1', 'execution', 'N-9', '{\"status\": \"working\", \"venue\": \"paper\"}', ARRAY['dm:execution_report'])")
    first = drain(dm, 1.0)
    assert [(n["strand_id"], n["table"], n["module"], n["kind"]) for n in first] == [("R-1", "tr_strand", "tr", "execution")]
    db.execute("UPDATE tr_strand SET exec_metrics = exec_metrics || '{\"filled_qty\": 1}' WHERE id = 'R-1'")
    assert drain(dm, 0.5) == [], "same status: no news"
    db.execute("UPDATE tr_strand SET exec_metrics = exec_metrics || '{\"status\": \"filled\"}' WHERE id = 'R-1'")
    assert [n["strand_id"] for n in drain(dm, 1.0)] == ["R-1"], "a new status is news, once"
    assert drain(trader, 0.2) == [], "reports are not sent to the Trader's own channel"


def test_decision_waits_in_inbox_while_nobody_listens(db):
    insert_decision(db, "N-4")
    row = db.execute("SELECT id, state, order_spec FROM tr_inbox WHERE id = 'N-4'").fetchone()
    assert row[0] == "N-4" and row[1] == "pending"
    assert row[2]["qty"] == "1"
    claimed = db.execute("SELECT id FROM tr_claim_orders('late-worker', 10)").fetchall()
    assert claimed == [("N-4",)]
