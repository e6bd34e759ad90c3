"""Fail fast: what no retry can fix ends a real `trader worker` process within
seconds, with exit code 2 and one line on stderr naming the problem; what a retry can
outlast (the server down or restarting) keeps it running."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from conftest import wait_for
from trader import log
from trader.db import ConfigurationError, connect

FAST = 15.0  # seconds: the whole run, Python's start included, on a busy machine


def run_worker(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[str], float]:
    """A `trader worker` process run to its end: exit code, stderr lines, seconds taken."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "trader.cli", "worker", "--poll-interval", "0.2", *args],
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=FAST)
    return done.returncode, done.stderr.splitlines(), time.monotonic() - started


def assert_fails_fast(*args: str, names: tuple[str, ...], env: dict[str, str] | None = None) -> str:
    code, lines, seconds = run_worker(*args, env=env)
    assert code == 2, lines
    assert len(lines) == 1, lines
    [line] = lines
    assert line.startswith("trader: ") and "Traceback" not in line
    for name in names:
        assert name in line, f"{name!r} not in {line!r}"
    assert seconds < FAST
    return line


def test_wrong_password(db):
    db.execute("ALTER ROLE tr_worker PASSWORD 'worker-test'")
    try:
        connect(user="tr_worker", password="not-the-password").close()
    except ConfigurationError:
        pass
    else:
        pytest.skip("this cluster does not ask tr_worker for a password")
    line = assert_fails_fast(env={"PGUSER": "tr_worker", "PGPASSWORD": "not-the-password"},
                             names=("password authentication failed", "28P01", "PGPASSWORD"))
    assert "tr_worker" in line


def test_unknown_role():
    # Under password authentication the server does not say whether the role exists.
    line = assert_fails_fast(env={"PGUSER": "no_such_role"}, names=("no_such_role", "refused the login", "SQLSTATE 28"))
    assert "does not exist" in line or "password authentication failed" in line


def test_unknown_database():
    assert_fails_fast(env={"PGDATABASE": "no_such_database"}, names=("no_such_database", "3D000", "PGDATABASE"))


@pytest.mark.parametrize("dsn, problem", [("hostt=localhost", 'invalid connection option "hostt"'),
                                          ("not a dsn", 'missing "="')])
def test_malformed_dsn(dsn, problem):
    assert_fails_fast("--dsn", dsn, names=("malformed connection string", problem))


@pytest.fixture
def empty_database(db) -> Iterator[str]:
    name = "trader_fail_fast_empty"
    db.execute(f"DROP DATABASE IF EXISTS {name}")
    db.execute(f"CREATE DATABASE {name}")
    yield name
    db.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_module_not_deployed(empty_database):
    assert_fails_fast(env={"PGDATABASE": empty_database},
                      names=("not deployed", empty_database, "tr_reconcile_venue(text,jsonb,jsonb,timestamptz)", "sqitch deploy"))


def test_unknown_venue(db):
    assert_fails_fast("--venues", "papr_b", names=("unknown venue", "papr_b", "paper_b"))


def test_curator_that_cannot_be_imported(db):
    assert_fails_fast("--curators", "nosuchmod:Foo", names=("curator plug-in", "nosuchmod:Foo", "No module named"))


def test_curator_spec_without_a_factory(db):
    assert_fails_fast("--curators", "trader.curators", names=("curator plug-in", "package.module:factory"))


@pytest.fixture
def ccxt_venue_without_credentials(db) -> Iterator[str]:
    db.execute("INSERT INTO tr_venues (name, adapter, params) VALUES ('ff_binance', 'ccxt', '{\"exchange\": \"binance\"}')")
    yield "ff_binance"
    db.execute("DELETE FROM tr_venues WHERE name = 'ff_binance'")


def test_ccxt_venue_without_credentials(ccxt_venue_without_credentials):
    assert_fails_fast("--venues", ccxt_venue_without_credentials,
                      env={"TRADER_VENUE_FF_BINANCE_API_KEY": "", "TRADER_VENUE_FF_BINANCE_SECRET": ""},
                      names=("ff_binance", "TRADER_VENUE_FF_BINANCE_API_KEY", "TRADER_VENUE_FF_BINANCE_SECRET"))


def test_metrics_port_in_use(db):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        assert_fails_fast("--metrics-port", port, names=("metrics", port))


def test_status_fails_in_one_line_too():
    done = subprocess.run([sys.executable, "-m", "trader.cli", "status"], env={**os.environ, "PGDATABASE": "no_such_database"},
                          capture_output=True, text=True, timeout=FAST)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert "no_such_database" in line and "3D000" in line


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_server_is_retried_with_jittered_backoff(start_worker):
    worker = start_worker(env={"PGHOST": "127.0.0.1", "PGPORT": str(free_port())})
    lost = wait_for(lambda: len(worker.events("connection_lost")) >= 4 and worker.events("connection_lost"), timeout=20)
    assert worker.proc.poll() is None, "a refused connection is transient: the worker goes on"
    waits = [e["retry_in_s"] for e in lost]
    assert waits[1] > waits[0] / 2 and waits[3] > waits[0], "the waits grow"
    assert len(set(waits)) == len(waits), "and are jittered"
    assert all("Connection refused" in e["error"] and "\n" not in e["error"] for e in lost)
    assert worker.stop(signal.SIGTERM, timeout=10) == 0


def _record(exc_info: bool) -> logging.LogRecord:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        return logging.LogRecord("trader.worker", logging.ERROR, __file__, 1, "batch_failed", None,
                                 sys.exc_info() if exc_info else None)


@pytest.mark.parametrize("formatter", [log.JsonFormatter, log.TextFormatter])
def test_a_traceback_is_logged_in_its_own_field_and_only_at_debug(formatter):
    record = _record(exc_info=True)
    record.fields = {"error": "RuntimeError: boom"}
    quiet = formatter(with_traceback=False).format(record)
    assert "\n" not in quiet and "Traceback" not in quiet and "boom" in quiet
    loud = formatter(with_traceback=True).format(record)
    assert "Traceback (most recent call last)" in loud
    if formatter is log.JsonFormatter:
        assert json.loads(loud)["traceback"].startswith("Traceback")
