"""Operator actions end to end: each `trader orders ...` and `trader jobs schedule`
command against the real database, through the parser `trader.operator.register`
builds, and a worker that carries out a requested cancel."""

from __future__ import annotations

import argparse
from decimal import Decimal

import pytest
from psycopg.types.json import Jsonb

from conftest import drain, wait_for
from trader import operator


def trader(capsys, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="trader")
    operator.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code = args.func(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def failed_order(db, order_id: str, reason: str, qty: str = "2") -> None:
    """An order out of attempts: PROCESSING_ERROR never sent, or UNKNOWN_AT_VENUE after its intent."""
    at_venue = reason == "UNKNOWN_AT_VENUE"
    db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES (%s, 'OPS-A', %s, ARRAY['trader:execute'])",
               (order_id, Jsonb({"side": "buy", "qty": qty, "ref_px": "100"})))
    db.execute("UPDATE tr_inbox SET claim_count = 5, last_error = 'adapter crashed', submit_intent_at = %s, venue = %s "
               "WHERE id = %s", ("2026-01-01T00:00:00Z" if at_venue else None, "paper_a" if at_venue else None, order_id))
    db.execute("SELECT tr_report_execution(%s, %s)", (order_id, Jsonb({"status": "failed", "reason": reason})))


def test_dead_letters_are_listed_then_retried_back_to_pending(db, capsys):
    failed_order(db, "OPS-1", "PROCESSING_ERROR")
    code, out, _ = trader(capsys, "orders", "dead-letters")
    assert code == 0
    assert "OPS-1" in out and "PROCESSING_ERROR" in out and "adapter crashed" in out and "trader orders retry" in out
    code, out, err = trader(capsys, "orders", "retry", "OPS-1", "--why", "adapter fixed")
    assert (code, err) == (0, ""), err
    assert "OPS-1: retried; now received" in out
    assert db.execute("SELECT state, claim_count, last_error FROM tr_inbox WHERE id = 'OPS-1'").fetchone() == ("pending", 0, None)
    assert db.execute("SELECT action, reason, actor = session_user, details->'previous'->>'last_error' FROM tr_operator_actions "
                      "WHERE order_id = 'OPS-1'").fetchone() == ("retry", "adapter fixed", True, "adapter crashed")
    assert trader(capsys, "orders", "dead-letters")[1] == "no dead letters\n"


def test_an_acknowledged_dead_letter_stays_failed_and_leaves_the_list(db, capsys):
    failed_order(db, "OPS-2", "PROCESSING_ERROR")
    code, out, err = trader(capsys, "orders", "acknowledge", "OPS-2", "--why", "decision expired")
    assert (code, err) == (0, ""), err
    assert "now failed PROCESSING_ERROR" in out
    assert "OPS-2" not in trader(capsys, "orders", "dead-letters")[1]


def test_an_unknown_order_resolved_filled_reaches_the_position_and_the_decision_maker_once(db, capsys, listener_factory):
    failed_order(db, "OPS-3", "UNKNOWN_AT_VENUE")
    dm = listener_factory("decision_maker_strand_notification")
    execution_id = db.execute("SELECT execution_id FROM tr_inbox WHERE id = 'OPS-3'").fetchone()[0]
    code, out, err = trader(capsys, "orders", "resolve", "OPS-3", "--filled", "--fill", "E1:101:1.5:0.1:2026-01-01T00:00:01Z",
                            "--fill", "E2:102:0.5", "--why", "the exchange shows it filled")
    assert (code, err) == (0, ""), err
    assert "OPS-3: resolved; now filled" in out
    assert db.execute("SELECT quantity FROM tr_positions WHERE symbol = 'OPS-A'").fetchone()[0] == Decimal("2")
    seen = [n for n in drain(dm) if n["strand_id"] == execution_id]
    assert len(seen) == 1, "the Decision Maker hears one status change, failed to filled"
    assert db.execute("SELECT exec_metrics->>'status' FROM tr_strand WHERE id = %s", (execution_id,)).fetchone()[0] == "filled"


def test_an_unknown_order_resolved_as_never_placed_or_cancelled(db, capsys):
    failed_order(db, "OPS-4", "UNKNOWN_AT_VENUE")
    failed_order(db, "OPS-5", "UNKNOWN_AT_VENUE")
    assert trader(capsys, "orders", "resolve", "OPS-4", "--never-placed", "--why", "not in the order history")[0] == 0
    assert trader(capsys, "orders", "resolve", "OPS-5", "--cancelled", "--fill", "C1:100:0.5", "--why", "cancelled there")[0] == 0
    assert db.execute("SELECT id, status::text, reason, filled_qty FROM tr_inbox WHERE id IN ('OPS-4', 'OPS-5') ORDER BY id").fetchall() == [
        ("OPS-4", "failed", "NEVER_PLACED", Decimal("0")), ("OPS-5", "cancelled", None, Decimal("0.5"))]


def test_a_requested_cancel_is_carried_out_by_the_worker(db, capsys, start_worker):
    db.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES ('OPS-B', ARRAY['tr:market_update'], '{\"bid\": 100, \"ask\": 100.2}')")
    worker = start_worker()
    db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES ('OPS-6', 'OPS-B', "
               "'{\"side\": \"buy\", \"qty\": 1, \"order_type\": \"limit\", \"limit_px\": 90, \"tif\": \"gtc\"}', ARRAY['trader:execute'])")
    status = "SELECT exec_metrics->>'status', exec_metrics->>'reason' FROM tr_strand WHERE kind = 'execution' AND decision_id = 'OPS-6'"
    wait_for(lambda: (db.execute(status).fetchone() or (None,))[0] == "working")
    code, out, err = trader(capsys, "orders", "cancel", "OPS-6", "--why", "fat finger")
    assert (code, err) == (0, ""), err
    wait_for(lambda: db.execute(status).fetchone() == ("cancelled", "CANCELLED_BY_OPERATOR"))
    assert db.execute("SELECT status FROM tr_paper_orders WHERE client_order_id = 'OPS-6'").fetchone()[0] == "cancelled"
    assert worker.stop() == 0


@pytest.mark.parametrize("argv, expected", [
    (("orders", "retry", "OPS-NONE", "--why", "x"), "trader: P0002 no order OPS-NONE (hint: "),
    (("orders", "acknowledge", "OPS-7", "--why", "x"), "trader: 55000 order OPS-7 may be at venue paper_a"),
    (("orders", "resolve", "OPS-7", "--filled", "--why", "x"), "trader: 22023 a filled order needs its fills (hint: "),
    (("orders", "cancel", "OPS-7", "--why", " "), "trader: 22023 an operator action needs a reason (hint: "),
    (("orders", "dead-letters", "--dsn", "postgresql://nobody@localhost:1/none"), "trader: "),
])
def test_a_refusal_is_one_line_on_stderr_and_a_nonzero_exit(db, capsys, argv, expected):
    failed_order(db, "OPS-7", "UNKNOWN_AT_VENUE")
    code, out, err = trader(capsys, *argv)
    assert code == 1 and out == ""
    assert err.startswith(expected) and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_jobs_are_scheduled_after_the_fact(db, capsys):
    code, out, err = trader(capsys, "jobs", "schedule")
    assert (code, err) == (0, ""), err
    jobs = [line.split()[0] for line in out.splitlines()]
    assert jobs == [r[0] for r in db.execute("SELECT name FROM tr_jobs ORDER BY name").fetchall()]
    assert all(line.endswith(" scheduled") for line in out.splitlines())
