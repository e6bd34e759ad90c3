"""Back-off after an exchange's rate-limit answer, one window per exchange.

ccxt's own throttle (enableRateLimit) spaces requests to an exchange's published
limits, but an exchange still answers 418/429 when the account or the IP is over a
limit ccxt cannot see (other processes, order-count limits). After such an answer
every further call to that exchange waits out a window that doubles with each answer
in a row, with jitter so that workers sharing an IP do not come back in step.
Windows are per exchange id: a limit at one exchange never slows another.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Window:
    until: float = 0.0
    strikes: int = 0


class Backoffs:
    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 jitter: Callable[[], float] = random.random) -> None:
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def remaining(self, exchange: str) -> float:
        """Seconds left in the exchange's back-off window (0 outside one)."""
        with self._lock:
            window = self._windows.get(exchange)
            return 0.0 if window is None else max(0.0, window.until - self.clock())

    def wait(self, exchange: str, deadline: float | None = None) -> bool:
        """Sleeps out the window; False, without sleeping, when it ends past `deadline`
        (on the clock), so that the caller defers instead."""
        left = self.remaining(exchange)
        if left <= 0:
            return True
        if deadline is not None and self.clock() + left >= deadline:
            return False
        self.sleep(left)
        return True

    def hit(self, exchange: str, base_s: float, max_s: float) -> float:
        """A rate-limit answer: opens (or lengthens) the window; returns its length."""
        with self._lock:
            window = self._windows.setdefault(exchange, _Window())
            window.strikes += 1
            ceiling = min(max_s, base_s * 2 ** (window.strikes - 1))
            # Equal jitter: at least half the ceiling, so the exchange always gets a rest.
            delay = ceiling * (0.5 + 0.5 * self.jitter())
            window.until = max(window.until, self.clock() + delay)
            return delay

    def ok(self, exchange: str) -> None:
        """An answer that was not a rate limit: the next one starts from the base again."""
        with self._lock:
            window = self._windows.get(exchange)
            if window is not None:
                window.strikes = 0


#: The worker's windows, shared by every venue on the same exchange (limits are per
#: exchange account and IP, not per venue row).
BACKOFFS = Backoffs()
