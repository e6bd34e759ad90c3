"""`trader health`: the verdicts of tr_health as exit codes, text and JSON; the
database unreachable and the module missing are down, in one line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import LEARNING_JOBS
from trader.db import connect

def health(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trader", "health", *args], capture_output=True, text=True, timeout=60)


def statuses(run: subprocess.CompletedProcess) -> dict[str, str]:
    return {c["check"]: c["status"] for c in json.loads(run.stdout)["checks"]}


@pytest.fixture
def quiet_jobs(db):
    """The jobs' run history of earlier tests is not this test's: it starts with none.
    Every job is active, as in production (the test session pauses the learning jobs)."""
    db.execute("DELETE FROM cron.job_run_details d USING cron.job j "
               "WHERE d.jobid = j.jobid AND j.jobname LIKE 'trader-%' AND j.database = current_database()")
    db.execute("UPDATE cron.job SET active = true WHERE jobname = ANY(%s)", (LEARNING_JOBS,))
    yield
    db.execute("UPDATE cron.job SET active = false WHERE jobname = ANY(%s)", (LEARNING_JOBS,))


def test_healthy_with_a_worker_running(db, quiet_jobs, start_worker):
    worker = start_worker("--worker-id", "health-test")
    worker.wait_connected()
    run = health()
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("trader health: ok")
    assert "connected: health-test" in run.stdout
    assert worker.stop() == 0


def test_degraded_without_a_worker_and_with_a_dead_letter(db, quiet_jobs):
    db.execute("INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, claim_count, last_error) "
               "VALUES ('HL-DEAD', 'decision', 'HL-DEAD', 'HL-1', '{\"side\": \"buy\", \"qty\": 1}', 5, 'adapter crashed')")
    db.execute("SELECT tr_report_execution('HL-DEAD', '{\"status\": \"failed\", \"reason\": \"PROCESSING_ERROR\"}')")
    run = health("--json")
    assert run.returncode == 1, run.stdout + run.stderr
    checks = statuses(run)
    assert checks["workers"] == "degraded" and checks["dead_letters"] == "degraded"
    assert checks["database"] == checks["module"] == checks["awaiting_operator"] == "ok"
    text = health()
    assert text.returncode == 1 and text.stdout.startswith("trader health: degraded")
    assert "trader orders dead-letters" in text.stdout and "start trader worker" in text.stdout


def test_an_unreachable_database_is_down_in_one_line():
    run = health("--dsn", "host=localhost port=1 dbname=nowhere", "--timeout", "1")
    assert run.returncode == 2
    assert run.stdout.count("\n") == 1 and run.stdout.startswith("trader health: down: database unreachable")
    assert "Traceback" not in run.stdout + run.stderr
    as_json = health("--dsn", "host=localhost port=1 dbname=nowhere", "--timeout", "1", "--json")
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["status"] == "down"


def test_a_database_without_the_module_is_down(db):
    db.execute("DROP DATABASE IF EXISTS trader_health_empty")
    db.execute("CREATE DATABASE trader_health_empty")
    try:
        run = health("--dsn", "dbname=trader_health_empty", "--json")
    finally:
        db.execute("DROP DATABASE trader_health_empty")
    assert run.returncode == 2, run.stdout + run.stderr
    assert statuses(run) == {"database": "ok", "module": "down"}
    assert "sqitch deploy" in json.loads(run.stdout)["checks"][1]["detail"]


def test_json_shape(db, quiet_jobs):
    run = health("--json")
    data = json.loads(run.stdout)
    assert set(data) == {"status", "checks"} and data["status"] in ("ok", "degraded", "down")
    assert [c["check"] for c in data["checks"]] == ["database", "module", "workers", "pending_age", "expired_leases",
                                                    "dead_letters", "awaiting_operator", "jobs", "unconverted_fees",
                                                    "venue_differences"]
    assert all(set(c) == {"check", "status", "value", "detail"} for c in data["checks"])
    assert run.returncode == {"ok": 0, "degraded": 1, "down": 2}[data["status"]]
    with connect(autocommit=True) as conn:
        assert [tuple(c.values()) for c in data["checks"][1:]] == \
            [tuple(r) for r in conn.execute("SELECT check_name, status, value, detail FROM tr_health()")]
