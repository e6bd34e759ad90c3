"""Fixtures for tests against the throwaway cluster that tests/run.sh starts.

Connections come from the libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD,
PGDATABASE) that pg_virtualenv exports; the module is deployed before pytest runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
import pytest

from trader.db import connect

MODULE_TABLES = ("tr_paper_orders", "tr_fills", "tr_inbox", "tr_strand", "tr_positions", "tr_execution_performance",
                 "tr_curator_performance", "tr_quotes", "tr_unapplied_input", "tr_risk_state",
                 "tr_operator_actions", "tr_venue_differences", "dm_strand", "rm_strand", "md_strand")


LEARNING_JOBS = ["trader-curator-weights", "trader-form-braids"]


@pytest.fixture(scope="session", autouse=True)
def learning_jobs_paused() -> Iterator[None]:
    """The tests run the learning jobs' functions themselves, at the moment they choose:
    the cluster's pg_cron would otherwise run them too, at any minute, and move the
    weights or count the evidence under a test's feet."""
    with connect(autocommit=True) as conn:
        conn.execute("UPDATE cron.job SET active = false WHERE jobname = ANY(%s)", (LEARNING_JOBS,))
    yield
    with connect(autocommit=True) as conn:
        conn.execute("UPDATE cron.job SET active = true WHERE jobname = ANY(%s)", (LEARNING_JOBS,))


@pytest.fixture
def db() -> Iterator[psycopg.Connection]:
    """An autocommit superuser connection; the module's rows are wiped after each test."""
    conn = connect(autocommit=True)
    try:
        yield conn
    finally:
        if conn.closed:  # a test may restart the server
            conn = connect(autocommit=True)
        conn.execute("TRUNCATE " + ", ".join(MODULE_TABLES))
        conn.close()


@pytest.fixture
def listener_factory() -> Iterator:
    """Opens autocommit connections LISTENing on a channel."""
    opened: list[psycopg.Connection] = []

    def listen(channel: str) -> psycopg.Connection:
        conn = connect(autocommit=True)
        conn.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(channel)))
        opened.append(conn)
        return conn

    yield listen
    for conn in opened:
        conn.close()


def drain(conn: psycopg.Connection, timeout: float = 0.5) -> list[dict]:
    """Every notification that arrives within timeout seconds, payloads parsed."""
    return [json.loads(n.payload) | {"channel": n.channel} for n in conn.notifies(timeout=timeout)]


def run_concurrently(sessions: int, work: Callable[[psycopg.Connection, int], None]) -> None:
    """Runs work(conn, n) in `sessions` threads, each on its own autocommit connection,
    started together; re-raises the first error."""
    start = threading.Barrier(sessions)
    errors: list[BaseException] = []

    def target(n: int) -> None:
        try:
            with connect(autocommit=True) as conn:
                start.wait()
                work(conn, n)
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(n,)) for n in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Polls predicate until it returns something truthy; fails the test after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {getattr(predicate, '__name__', predicate)}")
        time.sleep(interval)


class WorkerProcess:
    """A real `trader worker` process, its JSON log kept in a file."""

    def __init__(self, args: Sequence[str], env: dict[str, str], log_path: str) -> None:
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "trader.cli", "worker", *args],
                                     stdout=self._log, stderr=subprocess.STDOUT, env=env)

    def events(self, name: str | None = None) -> list[dict]:
        with open(self.log_path) as f:
            lines = [json.loads(line) for line in f if line.startswith("{")]
        return [e for e in lines if name is None or e.get("event") == name]

    def wait_connected(self) -> None:
        wait_for(lambda: self.events("connected") or self.proc.poll() is not None)
        assert self.proc.poll() is None, open(self.log_path).read()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self._log.close()
        return code


@pytest.fixture
def start_worker(tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(*args: str, env: dict[str, str] | None = None, poll_interval: str = "0.2") -> WorkerProcess:
        worker = WorkerProcess(["--poll-interval", poll_interval, *args], {**os.environ, **(env or {})},
                               str(tmp_path / f"worker-{len(started)}.log"))
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait()


@pytest.fixture
def short_lease(db) -> Iterator[None]:
    db.execute("UPDATE tr_settings SET value = '1 second' WHERE key IN ('inbox.lease', 'inbox.submit_lease')")
    yield
    db.execute("UPDATE tr_settings SET value = '10 seconds' WHERE key = 'inbox.lease'")
    db.execute("UPDATE tr_settings SET value = '60 seconds' WHERE key = 'inbox.submit_lease'")
