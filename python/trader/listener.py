"""LISTEN on the Trader's channel, on a dedicated autocommit connection.

A notification is a prompt, not the message: the worker claims from the inbox
whatever woke it, and polls when nothing does, so a lost notification costs at most
one poll interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
from psycopg import sql

CHANNEL = "trader_strand_notification"
SLICE = 0.25  # seconds: how soon a waiting worker notices a stop request


class Listener:
    def __init__(self, connect: Callable[..., psycopg.Connection], enabled: bool = True) -> None:
        self._connect = connect
        self.enabled = enabled
        self._conn: psycopg.Connection | None = None

    def open(self) -> None:
        if self.enabled and (self._conn is None or self._conn.closed):
            self._conn = self._connect(autocommit=True)
            self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))

    def wait(self, timeout: float, stopping: Callable[[], bool] = lambda: False) -> bool:
        """Waits up to timeout seconds for a notification; True if one came. Waits in
        short slices so that a stop request (SIGTERM) is seen promptly. Every
        notification already queued is consumed, so one wake-up serves them all."""
        deadline = time.monotonic() + timeout
        woke = False
        while not woke and not stopping():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if not self.enabled or self._conn is None:
                time.sleep(min(remaining, SLICE))
                continue
            for _ in self._conn.notifies(timeout=min(remaining, SLICE), stop_after=1):
                woke = True
        if woke:
            for _ in self._conn.notifies(timeout=0):
                pass
        return woke

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
