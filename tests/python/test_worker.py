"""The worker sidecar as a real process against the real database: every decision
executed at most once and reported exactly once, whatever is killed when."""

from __future__ import annotations

import os
import signal
import subprocess
from decimal import Decimal

import pytest
from psycopg.types.json import Jsonb

from conftest import drain, wait_for
from trader.db import connect


def quote(db, symbol: str, bid: str, ask: str) -> None:
    db.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES (%s, ARRAY['tr:market_update'], %s)",
               (symbol, Jsonb({"bid": bid, "ask": ask})))


def decide(db, n: int, symbol: str, spec: dict, prefix: str = "D") -> list[str]:
    rows = db.execute(
        "INSERT INTO dm_strand (id, lifecycle_id, symbol, order_spec, tags) "
        "SELECT %s || lpad(g::text, 5, '0'), 'lc-' || g, %s, %s, ARRAY['trader:execute'] FROM generate_series(1, %s) g "
        "RETURNING id", (prefix, symbol, Jsonb(spec), n)).fetchall()
    return [r[0] for r in rows]


def count(db, sql: str, *params) -> int:
    return db.execute(sql, params).fetchone()[0]


def all_done(db, ids) -> bool:
    return count(db, "SELECT count(*) FROM tr_inbox WHERE id = ANY(%s) AND state = 'done'", list(ids)) == len(ids)


def assert_exactly_once(db, ids, qty_each: Decimal, symbol: str) -> None:
    assert count(db, "SELECT count(*) FROM tr_paper_orders WHERE client_order_id = ANY(%s)", list(ids)) == len(ids), \
        "each order reached the venue once"
    assert count(db, "SELECT count(*) FROM tr_strand WHERE kind = 'execution' AND decision_id = ANY(%s)", list(ids)) == len(ids), \
        "each order has one execution report"
    assert count(db, "SELECT count(*) FROM tr_strand WHERE kind = 'fill' AND decision_id = ANY(%s)", list(ids)) == len(ids), \
        "each fill was recorded once"
    position = db.execute("SELECT quantity FROM tr_positions WHERE symbol = %s", (symbol,)).fetchone()[0]
    venue_total = db.execute("SELECT sum((f->>'qty')::numeric) FROM tr_paper_orders, jsonb_array_elements(fills) f "
                             "WHERE symbol = %s", (symbol,)).fetchone()[0]
    assert position == venue_total == qty_each * len(ids), "the position is the sum of the venue's fills"


def test_decision_travels_to_report_through_notify(db, start_worker, listener_factory):
    quote(db, "NT-A", "100", "100.5")
    worker = start_worker(poll_interval="30")  # only a notification can wake it in time
    worker.wait_connected()
    dm = listener_factory("decision_maker_strand_notification")
    [order] = decide(db, 1, "NT-A", {"side": "buy", "qty": "1", "ref_px": "100.25"})
    received = [n for n in drain(dm, 5.0) if n["kind"] == "execution"]
    assert len(received) == 1, "the Decision Maker heard of the report within seconds, long before any poll"
    status, venue = db.execute("SELECT exec_metrics->>'status', route_hint FROM tr_strand WHERE id = %s",
                               (received[0]["strand_id"],)).fetchone()
    assert (status, venue) == ("filled", "paper_a")
    [line] = [e for e in worker.events("order") if e["order_id"] == order]
    assert line["status"] == "filled" and line["venue"] == "paper_a" and line["latency_ms"] >= 0
    assert worker.stop() == 0


def test_decisions_made_while_the_worker_was_down_are_caught_up_on_start(db, start_worker):
    quote(db, "CU-A", "10", "10.1")
    ids = decide(db, 25, "CU-A", {"side": "buy", "qty": "2"})
    # As the tr_worker role: its grants are all a worker needs.
    db.execute("ALTER ROLE tr_worker PASSWORD 'worker-test'")
    worker = start_worker(poll_interval="30", env={"PGUSER": "tr_worker", "PGPASSWORD": "worker-test"})
    wait_for(lambda: all_done(db, ids))
    assert_exactly_once(db, ids, Decimal(2), "CU-A")
    assert worker.stop() == 0


def test_polling_alone_gets_everything_when_notifications_are_lost(db, start_worker):
    quote(db, "PL-A", "10", "10.1")
    worker = start_worker("--no-listen", poll_interval="0.2")
    worker.wait_connected()
    ids = decide(db, 10, "PL-A", {"side": "sell", "qty": "1"})
    wait_for(lambda: all_done(db, ids), timeout=10)
    assert count(db, "SELECT count(*) FROM tr_strand WHERE kind = 'execution' AND decision_id = ANY(%s)", ids) == 10
    assert worker.stop() == 0


@pytest.mark.parametrize("point, sent_before_kill", [("intent", 0), ("submit", 10)])
def test_kill_9_mid_batch_then_restart_executes_and_reports_each_decision_once(
        db, start_worker, short_lease, point, sent_before_kill):
    symbol = f"K9-{point}"
    quote(db, symbol, "50", "50.1")
    ids = decide(db, 10, symbol, {"side": "buy", "qty": "1"})
    doomed = start_worker("--batch-size", "10", env={"TRADER_TEST_PAUSE_AT": point, "TRADER_TEST_PAUSE_SECONDS": "60"})
    wait_for(lambda: count(db, "SELECT count(*) FROM tr_inbox WHERE submit_intent_at IS NOT NULL") == 10
             and count(db, "SELECT count(*) FROM tr_paper_orders") == sent_before_kill)
    doomed.stop(signal.SIGKILL)
    assert count(db, "SELECT count(*) FROM tr_strand WHERE kind = 'execution'") == 0, "killed before reporting"
    survivor = start_worker()
    wait_for(lambda: all_done(db, ids))
    assert_exactly_once(db, ids, Decimal(1), symbol)
    reconciled = survivor.events("reconciled")
    assert {e["order_id"] for e in reconciled} == set(ids), "each was looked up at the venue before anything was sent"
    assert sum(e["found"] for e in reconciled) == sent_before_kill, "what the venue had was reported, not resent"
    assert survivor.stop() == 0


def test_two_workers_and_a_thousand_decisions_execute_each_once(db, start_worker):
    quote(db, "TW-A", "20", "20.02")
    ids = decide(db, 1000, "TW-A", {"side": "buy", "qty": "0.5"})
    first = start_worker("--batch-size", "20", "--worker-id", "first")
    second = start_worker("--batch-size", "20", "--worker-id", "second")
    wait_for(lambda: all_done(db, ids), timeout=120)
    assert_exactly_once(db, ids, Decimal("0.5"), "TW-A")
    assert first.events("order") and second.events("order"), "both workers took part"
    assert first.stop() == 0 and second.stop() == 0


def test_the_worker_reconnects_after_a_database_restart(db, start_worker):
    quote(db, "RS-A", "10", "10.1")
    worker = start_worker()
    [before] = decide(db, 1, "RS-A", {"side": "buy", "qty": "1"}, prefix="B")
    wait_for(lambda: all_done(db, [before]))
    db.close()
    subprocess.run(["pg_ctlcluster", os.environ["PGVERSION"], "regress", "restart", "-m", "fast"], check=True)
    wait_for(lambda: subprocess.run(["pg_isready", "-q"]).returncode == 0, timeout=60)
    with connect(autocommit=True) as again:
        [after] = decide(again, 1, "RS-A", {"side": "buy", "qty": "1"}, prefix="A")
        wait_for(lambda: all_done(again, [after]), timeout=30)
        assert worker.events("connection_lost"), "the worker saw the restart"
        assert worker.proc.poll() is None
    assert worker.stop() == 0


def test_bad_order_specs_are_rejected_with_reason_codes_and_the_worker_goes_on(db, start_worker):
    quote(db, "BS-A", "10", "10.1")
    bad = {
        "BS-QTY": {"side": "buy", "qty": "0"},
        "BS-SIDE": {"side": "hold", "qty": "1"},
        "BS-LIMIT": {"side": "buy", "qty": "1", "order_type": "limit"},
        "BS-NAN": {"side": "buy", "qty": "NaN"},
        "BS-VENUE": {"side": "buy", "qty": "1", "venue": "nowhere"},
    }
    for order_id, spec in bad.items():
        db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES (%s, 'BS-A', %s, ARRAY['trader:execute'])",
                   (order_id, Jsonb(spec)))
    db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES ('BS-JUNK', 'BS-A', '\"junk\"', ARRAY['trader:execute'])")
    worker = start_worker()
    wait_for(lambda: all_done(db, [*bad, "BS-JUNK"]))
    reasons = dict(db.execute("SELECT decision_id, exec_metrics->>'reason' FROM tr_strand WHERE kind = 'execution' "
                              "AND exec_metrics->>'status' = 'rejected'").fetchall())
    assert reasons == {"BS-QTY": "INVALID_ORDER_SPEC", "BS-SIDE": "INVALID_ORDER_SPEC", "BS-LIMIT": "INVALID_ORDER_SPEC",
                       "BS-NAN": "INVALID_ORDER_SPEC", "BS-VENUE": "UNKNOWN_VENUE", "BS-JUNK": "INVALID_ORDER_SPEC"}
    [good] = decide(db, 1, "BS-A", {"side": "buy", "qty": "1"}, prefix="G")
    wait_for(lambda: all_done(db, [good]))
    assert worker.proc.poll() is None, "the worker is still running"
    assert worker.stop() == 0


def test_resting_limit_fills_on_a_crossing_quote_and_is_cancelled_on_halt(db, start_worker):
    quote(db, "RL-A", "100", "100.2")
    worker = start_worker()
    db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES "
               "('RL-1', 'RL-A', '{\"side\": \"buy\", \"qty\": 1, \"order_type\": \"limit\", \"limit_px\": 99, \"tif\": \"gtc\"}', ARRAY['trader:execute']),"
               "('RL-2', 'RL-A', '{\"side\": \"sell\", \"qty\": 1, \"order_type\": \"limit\", \"limit_px\": 105, \"tif\": \"gtc\"}', ARRAY['trader:execute'])")
    status = "SELECT exec_metrics->>'status' FROM tr_strand WHERE kind = 'execution' AND decision_id = %s"
    wait_for(lambda: db.execute(status, ("RL-1",)).fetchone() == ("working",))
    wait_for(lambda: db.execute(status, ("RL-2",)).fetchone() == ("working",))
    quote(db, "RL-A", "98.8", "98.9")
    wait_for(lambda: db.execute(status, ("RL-1",)).fetchone() == ("filled",))
    assert db.execute("SELECT exec_metrics->>'avg_px' FROM tr_strand WHERE kind = 'execution' AND decision_id = 'RL-1'").fetchone()[0] \
        == "99.00000000", "a resting buy fills at its limit"
    db.execute("INSERT INTO rm_strand (tags, risk_update) VALUES (ARRAY['tr:risk_update'], '{\"scope\": \"RL-A\", \"trading_state\": \"halted\"}')")
    wait_for(lambda: db.execute(status, ("RL-2",)).fetchone() == ("cancelled",))
    assert db.execute("SELECT exec_metrics->>'reason' FROM tr_strand WHERE kind = 'execution' AND decision_id = 'RL-2'").fetchone()[0] \
        == "TRADING_HALTED"
    assert db.execute("SELECT status FROM tr_paper_orders WHERE client_order_id = 'RL-2'").fetchone()[0] == "cancelled"
    assert all_done(db, ["RL-1", "RL-2"])
    assert worker.stop() == 0


def test_sigterm_finishes_the_batch_in_hand_and_exits_cleanly(db, start_worker):
    quote(db, "ST-A", "10", "10.1")
    ids = decide(db, 5, "ST-A", {"side": "buy", "qty": "1"})
    worker = start_worker("--batch-size", "5", env={"TRADER_TEST_PAUSE_AT": "intent", "TRADER_TEST_PAUSE_SECONDS": "1.5"})
    wait_for(lambda: count(db, "SELECT count(*) FROM tr_inbox WHERE submit_intent_at IS NOT NULL") == 5)
    assert worker.stop(signal.SIGTERM) == 0
    assert all_done(db, ids), "the batch it held was sent and reported before it exited"
    assert count(db, "SELECT count(*) FROM tr_inbox WHERE state = 'claimed'") == 0, "nothing is left held"
    assert worker.events("stopped")


def test_a_report_the_database_refuses_fails_that_order_and_keeps_the_rest(db):
    from trader import store
    quote(db, "RF-A", "10", "10.1")
    ids = decide(db, 2, "RF-A", {"side": "buy", "qty": "1"}, prefix="RF")
    good = {"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "rf-good", "px": "10.1", "qty": "1"}]}
    overfilled = {"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "rf-bad", "px": "10.1", "qty": "5"}]}
    done = store.report(db, [(ids[0], good), (ids[1], overfilled)])
    assert set(done) == set(ids)
    statuses = dict(db.execute("SELECT decision_id, exec_metrics->>'status' || '/' || coalesce(exec_metrics->>'reason', '') "
                               "FROM tr_strand WHERE kind = 'execution'").fetchall())
    assert statuses == {ids[0]: "filled/", ids[1]: "failed/INVALID_VENUE_REPORT"}
    assert db.execute("SELECT quantity FROM tr_positions WHERE symbol = 'RF-A'").fetchone()[0] == 1, "nothing accepted was lost"
