"""Bookkeeping under concurrent sessions: nothing lost, nothing doubled, and the
Decision Maker told of each status change once."""

from __future__ import annotations

from decimal import Decimal

from psycopg.types.json import Jsonb

from conftest import drain, run_concurrently

THREADS = 8
FILLS_PER_THREAD = 25


def test_concurrent_fills_on_a_new_symbol_lose_nothing(db):
    def buy(conn, n):
        for _ in range(FILLS_PER_THREAD):
            conn.execute("SELECT tr_apply_fill('CONC-NEW', 'buy', 1, 100, 0.01)")

    run_concurrently(THREADS, buy)
    total = THREADS * FILLS_PER_THREAD
    qty, avg, realized = db.execute(
        "SELECT quantity, avg_price, realized_pnl FROM tr_positions WHERE symbol = 'CONC-NEW'").fetchone()
    assert (qty, avg, realized) == (Decimal(total), Decimal(100), Decimal("-0.01") * total)

    def sell(conn, n):
        for _ in range(FILLS_PER_THREAD):
            conn.execute("SELECT tr_apply_fill('CONC-NEW', 'sell', 1, 110, 0.01)")

    run_concurrently(THREADS, sell)
    qty, realized = db.execute("SELECT quantity, realized_pnl FROM tr_positions WHERE symbol = 'CONC-NEW'").fetchone()
    assert qty == 0
    assert realized == Decimal(10) * total - Decimal("0.02") * total
    assert db.execute("SELECT count(*) FROM tr_positions WHERE symbol = 'CONC-NEW'").fetchone()[0] == 1


def test_concurrent_reports_on_one_symbol_lose_nothing(db):
    db.execute(
        "INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) "
        "SELECT 'CR-' || g, 'decision', 'CR-' || g, 'CONC-REP', '{\"side\": \"buy\", \"qty\": 2}' FROM generate_series(1, %s) g",
        (THREADS * 10,))

    def report(conn, n):
        for k in range(10):
            order = f"CR-{n * 10 + k + 1}"
            fills = [{"fill_id": f"{order}-a", "px": "50", "qty": "1", "fee": "0"},
                     {"fill_id": f"{order}-b", "px": "52", "qty": "1", "fee": "0"}]
            conn.execute("SELECT tr_report_execution(%s, %s)",
                         (order, Jsonb({"status": "partially_filled", "venue": "paper_a", "fills": fills[:1]})))
            conn.execute("SELECT tr_report_execution(%s, %s)",
                         (order, Jsonb({"status": "filled", "venue": "paper_a", "fills": fills})))

    run_concurrently(THREADS, report)
    qty, avg = db.execute("SELECT quantity, avg_price FROM tr_positions WHERE symbol = 'CONC-REP'").fetchone()
    assert (qty, avg) == (Decimal(THREADS * 20), Decimal(51))
    counts = db.execute(
        "SELECT count(*) FILTER (WHERE kind = 'execution'), count(*) FILTER (WHERE kind = 'fill') FROM tr_strand "
        "WHERE symbol = 'CONC-REP'").fetchone()
    assert counts == (THREADS * 10, THREADS * 20)
    assert db.execute("SELECT count(*) FROM tr_inbox WHERE symbol = 'CONC-REP' AND state = 'done'").fetchone()[0] == THREADS * 10


def test_report_notifies_the_decision_maker_once_per_status(db, listener_factory):
    db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES "
               "('DMN-1', 'DMN-A', '{\"side\": \"sell\", \"qty\": 2}', ARRAY['trader:execute'])")
    dm = listener_factory("decision_maker_strand_notification")
    working = {"status": "working", "venue": "paper_a", "submitted_at": "2026-01-01T00:00:00Z"}
    partial = {"status": "partially_filled", "venue": "paper_a",
               "fills": [{"fill_id": "X1", "px": "10", "qty": "1", "ts": "2026-01-01T00:00:01Z"}]}
    filled = {"status": "filled", "venue": "paper_a",
              "fills": [{"fill_id": "X1", "px": "10", "qty": "1"}, {"fill_id": "X2", "px": "10", "qty": "1"}]}
    for report in (working, working, partial, partial, filled, filled):
        db.execute("SELECT tr_report_execution('DMN-1', %s)", (Jsonb(report),))
    received = drain(dm, 1.0)
    execution_id = db.execute("SELECT id FROM tr_strand WHERE decision_id = 'DMN-1' AND kind = 'execution'").fetchone()[0]
    assert [n["strand_id"] for n in received] == [execution_id] * 3, "three statuses, three notifications, replays silent"
    assert {n["kind"] for n in received} == {"execution"}
