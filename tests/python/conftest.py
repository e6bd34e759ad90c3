"""Fixtures for tests against the throwaway cluster that tests/run.sh starts.

Connections come from the libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD,
PGDATABASE) that pg_virtualenv exports; the module is deployed before pytest runs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator

import psycopg
import pytest

from trader.db import connect

MODULE_TABLES = ("tr_inbox", "tr_strand", "tr_positions", "tr_execution_performance",
                 "tr_curator_performance", "tr_quotes", "tr_unapplied_input", "tr_risk_state",
                 "dm_strand", "rm_strand", "md_strand")


@pytest.fixture
def db() -> Iterator[psycopg.Connection]:
    """An autocommit superuser connection; the module's rows are wiped after each test."""
    conn = connect(autocommit=True)
    try:
        yield conn
    finally:
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
