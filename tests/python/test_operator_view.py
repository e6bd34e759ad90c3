"""The operator's view: `trader status`, `trader demo`, and the bench's measuring code."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from psycopg.types.json import Jsonb

REPO = Path(__file__).resolve().parents[2]


def trader(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trader.cli", *args], capture_output=True, text=True, timeout=timeout)


def known_content(db) -> None:
    db.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES ('OV-A', ARRAY['tr:market_update'], '{\"bid\": 100, \"ask\": 101}')")
    db.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES ('OV-A', ARRAY['tr:market_update'], '{\"bid\": 102, \"ask\": 101}')")
    db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES "
               "('OV-1', 'OV-A', '{\"side\": \"buy\", \"qty\": 2, \"ref_px\": 100}', ARRAY['trader:execute']),"
               "('OV-2', 'OV-A', '{\"side\": \"buy\", \"qty\": 1}', ARRAY['trader:execute'])")
    db.execute("SELECT tr_report_execution('OV-1', %s)", (Jsonb({
        "status": "filled", "venue": "paper_a", "submitted_at": "2026-01-01T00:00:00Z",
        "fills": [{"fill_id": "ov1", "px": "101", "qty": "2", "fee": "0.5", "ts": "2026-01-01T00:00:00.020Z"}]}),))


def test_status_shows_the_pipeline_positions_quality_and_unapplied_input(db):
    known_content(db)
    text = trader("status")
    assert text.returncode == 0, text.stderr
    assert "pending 1  claimed 0  working 0  done 1" in text.stdout
    rows = {line.split()[0]: line.split() for line in text.stdout.splitlines() if line.startswith("  ") and line.split()}
    assert rows["OV-A"] == ["OV-A", "long", "2", "101", "100.5", "-1", "-0.5", "-1.5"], "qty, avg, mark, PnL"
    assert rows["paper_a"] == ["paper_a", "1", "1", "100", "20", "0.5"], "orders, fill ratio, slippage, latency, fees"
    assert rows["md_strand"][:3] == ["md_strand", "CROSSED_QUOTE", "1"]

    data = json.loads(trader("status", "--json").stdout)
    assert {k: data["pipeline"][k] for k in ("pending", "claimed", "working", "done", "expired_leases")} == \
        {"pending": 1, "claimed": 0, "working": 0, "done": 1, "expired_leases": 0}
    assert data["pipeline"]["oldest_pending_age"] >= 0
    [position] = data["positions"]
    assert (position["symbol"], position["quantity"], position["unrealized_pnl"], position["realized_pnl"]) == \
        ("OV-A", "2.00000000", "-1.00000000", "-0.50000000")
    [venue] = data["venues"]
    assert (venue["venue"], venue["orders"], venue["mean_slip_bps"], venue["mean_latency_ms"]) == ("paper_a", 1, "100.0000", "20.0")
    assert [(u["reason"], u["count"]) for u in data["unapplied"]] == [("CROSSED_QUOTE", 1)]


def test_status_shows_health_workers_jobs_dead_letters_and_orders_awaiting_an_operator(db, start_worker):
    for order_id, reason in (("OV-DEAD", "PROCESSING_ERROR"), ("OV-UNK", "UNKNOWN_AT_VENUE")):
        db.execute("INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, claim_count, last_error, venue) "
                   "VALUES (%s, 'decision', %s, 'OV-A', '{\"side\": \"buy\", \"qty\": 1}', 5, 'adapter crashed', 'paper_a')",
                   (order_id, order_id))
        db.execute("SELECT tr_report_execution(%s, %s)", (order_id, Jsonb({"status": "failed", "reason": reason})))
    worker = start_worker("--worker-id", "ov-worker")
    worker.wait_connected()
    text = trader("status")
    assert text.returncode == 0, text.stderr
    blocks = dict(block.split("\n", 1) for block in text.stdout.split("\n\n"))
    sections = {title: [line.split()[0] for line in body.splitlines()] for title, body in blocks.items()}
    assert "dead_letters degraded  awaiting_operator degraded" in blocks["Health"], "the checks that are not ok"
    assert "workers" not in blocks["Health"]
    assert sections["Workers"] == ["worker_id", "ov-worker"]
    assert set(sections["Jobs"][1:]) == {r[0] for r in db.execute("SELECT name FROM tr_jobs")}
    assert sections["Dead letters"] == ["order_id", "OV-DEAD"]
    assert sections["Orders awaiting an operator"] == ["order_id", "OV-UNK"]
    data = json.loads(trader("status", "--json").stdout)
    assert [w["worker_id"] for w in data["workers"]] == ["ov-worker"]
    assert [d["order_id"] for d in data["dead_letters"]] == ["OV-DEAD"]
    assert [d["order_id"] for d in data["awaiting_operator"]] == ["OV-UNK"]
    assert {c["check_name"]: c["status"] for c in data["health"]}["awaiting_operator"] == "degraded"
    assert worker.stop() == 0


def test_demo_ends_with_a_report_for_every_decision_it_sent(db, start_worker):
    worker = start_worker()
    worker.wait_connected()
    run = trader("demo", "--duration", "6", "--rate", "10", "--symbols", "2", timeout=90)
    assert run.returncode == 0, run.stdout + run.stderr
    sent = db.execute("SELECT count(*) FROM dm_strand WHERE id LIKE 'demo-%'").fetchone()[0]
    assert sent >= 55
    reported = db.execute("SELECT count(*) FROM tr_strand WHERE kind = 'execution' AND decision_id LIKE 'demo-%' "
                          "AND exec_metrics->>'status' IN ('filled', 'cancelled', 'rejected', 'failed')").fetchone()[0]
    assert reported == sent
    assert f"{sent} decisions sent" in run.stdout and "without a report" not in run.stdout
    assert "latency decision->report  p50" in run.stdout and "positions" in run.stdout
    assert db.execute("SELECT count(*) FROM md_strand WHERE symbol LIKE 'DEMO-%'").fetchone()[0] >= 20, "quotes walked"
    assert worker.stop() == 0

    # The lesson formed from the run's executions at paper_a, and changed later decisions.
    [(lesson_id, members)] = db.execute(
        "SELECT l.id, l.executions FROM tr_active_lessons l WHERE l.kind = 'braid' AND l.conditions->>'venue' = 'paper_a' "
        "AND l.effects ? 'avoid_venue'").fetchall()
    assert f"a lesson formed: braid {lesson_id} from {members} executions" in run.stdout
    changed = db.execute(
        "SELECT count(*) FROM tr_strand WHERE kind = 'execution' AND decision_id LIKE 'demo-%%' "
        "AND lesson_metadata->'lessons_applied' ? %s AND exec_metrics->>'venue' = 'paper_a' "
        "AND (exec_metrics->>'order_qty')::numeric < (exec_metrics->>'requested_qty')::numeric "
        "AND created_at > (SELECT created_at FROM tr_strand WHERE id = %s)", (lesson_id, lesson_id)).fetchone()[0]
    assert changed > 0, "an order sent smaller at paper_a, after the lesson formed and because of it"
    assert f"{changed} orders that named paper_a were sent at half size" in run.stdout


def test_the_bench_measures_on_a_tiny_run(db, tmp_path):
    spec = importlib.util.spec_from_file_location("bench", REPO / "bench" / "bench.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = bench  # dataclasses look their module up while it loads
    spec.loader.exec_module(bench)

    ref = bench.reference(1)
    assert ref > 0
    worker = bench.BenchWorker(str(tmp_path / "worker.log"))
    try:
        tps = bench.pipeline(20, prefix="tiny")
        lat = bench.latency(40, 0.5, prefix="tinylat")
    finally:
        worker.stop()
    assert tps > 0 and lat["n"] == 20 and 0 < lat["p50_ms"] <= lat["p99_ms"] <= lat["max_ms"]
    out = tmp_path / "results.md"
    assert bench.load_history(30) > 0
    assert db.execute("SELECT count(*) FROM tr_strand WHERE kind = 'execution' AND tags = '{dm:execution_report}'").fetchone()[0] >= 30
    worker = bench.BenchWorker(str(tmp_path / "worker-history.log"))
    try:
        with_history = bench.Pass("30 past orders", bench.pipeline(10, prefix="tinyh", history=True),
                                  bench.latency(40, 0.25, prefix="tinyhlat", history=True))
    finally:
        worker.stop()
    assert db.execute("SELECT count(*) FROM tr_inbox WHERE id LIKE 'hist-%'").fetchone()[0] == 30
    text = bench.write_results(out, bench.machine(), ref, [bench.Pass("empty", tps, lat), with_history], 1.0,
                               "## What limits the pipeline\n\ntest")
    assert out.read_text() == text
    assert "| pipeline / reference |" in text and "| 30 past orders |" in text
    assert "## Machine and settings" in text and "- fsync:" in text and "| latency p99 |" in text
    db.execute("DROP TABLE IF EXISTS bench_reference_strand")
