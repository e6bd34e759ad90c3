"""A user stream for one exchange: its fills and order updates as they happen.

The worker is synchronous and learns fills by polling; this stream lets it learn them
sooner, and poll less while the stream is connected. A `UserStream` runs ccxt.pro's
`watch_my_trades()` and `watch_orders()` (each where the exchange has it) for all
symbols, concurrently, on an event loop of its own in a daemon thread, and queues
every trade and order it receives, as ccxt's unified dict, for `drain()`.

On a loss (any exception from a watch: a dropped socket, an expired listen key or
session, a refused login, anything else) the stream never raises into the worker:
it marks itself disconnected, logs `stream_lost`, closes the exchange's websocket
clients and forgets its cached authentication (so the next watch connects, logs in
or takes a new listen key from scratch), waits an exponential back-off with jitter,
and subscribes again; `stream_connected` is logged when the exchange answers again.
Fills that happened while the stream was down are not replayed: polling finds them.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import queue
import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import ccxt

from trader.log import event

log = logging.getLogger("trader.venues.stream")

# The watch calls and the kind of event each one yields.
WATCHES: dict[str, Literal["trade", "order"]] = {"watchMyTrades": "trade", "watchOrders": "order"}
_METHODS = {"watchMyTrades": "watch_my_trades", "watchOrders": "watch_orders"}

CLOSE_TIMEOUT_S = 5.0  # close() waits no longer than this for the exchange and the thread


@dataclass(frozen=True)
class StreamEvent:
    kind: Literal["trade", "order"]
    data: dict[str, Any]  # ccxt's unified trade or order, as received
    received_at: float    # time.monotonic() when it was queued


class UserStream:
    """One exchange's private stream of trades and orders, for a synchronous reader.

    `connected` is True from the first message the exchange sends on the stream's
    websocket that its ccxt handler takes without failing a watch (an accepted login,
    a subscription's acknowledgement, a push, a pong), or from the opening of a socket
    whose URL carries a listen key (binance's futures: no acknowledgement comes, the
    key was taken over REST), until a watch fails. On okx the
    first such answer is the login's, moments before the subscription is sent and
    acknowledged; a subscription refused then fails the watch and clears it again. A
    socket closed by either side fails every pending watch at once, so `connected`
    goes False as soon as the close is seen; a socket that dies silently is seen by
    ccxt's keep-alive (a missed pong) within its ping interval.
    """

    def __init__(self, exchange: Any, *, resubscribe_base_s: float = 1.0, resubscribe_max_s: float = 30.0,
                 name: str | None = None) -> None:
        self.exchange = exchange
        self.name = name or exchange.id
        self.resubscribe_base_s = resubscribe_base_s
        self.resubscribe_max_s = resubscribe_max_s
        self.reconnects = 0
        self.last_error: str | None = None
        self._events: queue.SimpleQueue[StreamEvent] = queue.SimpleQueue()
        self._connected = threading.Event()
        self._live = False       # a subscription round is running: answers count as connected
        self._was_connected = False  # connected at some point since the last loss
        self._closing = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None
        self._watches = {name: kind for name, kind in WATCHES.items() if exchange.has.get(name)}
        if not self._watches:
            raise ValueError(f"{exchange.id} can watch neither trades nor orders")
        self._observe_answers()

    # the worker's side --------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None or self._closing:
                return
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._run_loop, name=f"user-stream-{self.name}", daemon=True)
            self._thread.start()

    def drain(self, max_events: int = 10_000) -> list[StreamEvent]:
        drained: list[StreamEvent] = []
        while len(drained) < max_events:
            try:
                drained.append(self._events.get_nowait())
            except queue.Empty:
                break
        return drained

    def close(self) -> None:
        """Stops the watches, closes the exchange on its loop and joins the thread,
        each within CLOSE_TIMEOUT_S: a stuck exchange never holds the worker up."""
        with self._lock:
            self._closing = True
            thread, loop = self._thread, self._loop
        self._connected.clear()
        if thread is None or loop is None or not thread.is_alive():
            return
        done = asyncio.run_coroutine_threadsafe(self._shut_down(), loop)
        try:
            done.result(timeout=CLOSE_TIMEOUT_S)
        except Exception as exc:  # a timeout or a failing close: the thread is a daemon
            event(log, "stream_close_failed", logging.WARNING, exchange=self.name, error=_said(exc))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=CLOSE_TIMEOUT_S)

    # the stream's own thread ------------------------------------------------------------

    def _run_loop(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.set_exception_handler(self._loop_error)
        self._main = self._loop.create_task(self._subscribe_forever())
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """ccxt leaves futures it rejected when a connection is lost unawaited, and
        asyncio reports each when it is collected: one line each, never a traceback,
        which asyncio would format with ast in whatever thread collects the future
        (on Python 3.11 that can break an ast.parse running there)."""
        exc = context.get("exception")
        unawaited = "never retrieved" in context.get("message", "")
        event(log, "stream_unawaited_error" if unawaited else "stream_loop_error",
              logging.DEBUG if unawaited else logging.WARNING, exchange=self.name,
              error=_said(exc) if exc is not None else context.get("message"))

    async def _shut_down(self) -> None:
        if self._main is not None:
            self._main.cancel()
            await asyncio.gather(self._main, return_exceptions=True)
        await self.exchange.close()

    async def _subscribe_forever(self) -> None:
        failures = 0
        while not self._closing:
            try:
                await self._watch_all()
            except Exception as exc:  # CancelledError (closing) is not an Exception: it ends the loop
                if self._closing:
                    return
                if self._was_connected:  # a loss after a good spell starts the back-off over
                    failures, self._was_connected = 0, False
                self._lost(exc)
                await self._forget_session()
                await asyncio.sleep(self._backoff_s(failures))
                failures += 1
                self.reconnects += 1

    async def _watch_all(self) -> None:
        """Runs every watch until the first one fails, then stops the others and
        raises that failure: one loss is one resubscription of everything."""
        self._live = True
        watches = [asyncio.create_task(self._watch(name, kind)) for name, kind in self._watches.items()]
        try:
            done, _ = await asyncio.wait(watches, return_when=asyncio.FIRST_EXCEPTION)
            failed = next(task for task in done if task.exception() is not None)
            raise failed.exception()  # type: ignore[misc]
        finally:
            self._live = False
            self._connected.clear()
            for task in watches:
                task.cancel()
            await asyncio.gather(*watches, return_exceptions=True)

    async def _watch(self, name: str, kind: Literal["trade", "order"]) -> None:
        watch: Callable[[], Awaitable[list[dict[str, Any]]]] = getattr(self.exchange, _METHODS[name])
        while True:
            try:
                items = await watch()
            except asyncio.CancelledError:
                if self._closing:
                    raise
                # ccxt cancels the futures of a client it closes: a watch ended that way
                # is a loss too, or asyncio.wait would let it end unnoticed.
                raise ccxt.NetworkError(f"{name} was cancelled by ccxt") from None
            for item in items:
                # ccxt updates a cached order in place: each event keeps its own copy.
                self._events.put(StreamEvent(kind, copy.deepcopy(item), time.monotonic()))
            self._answered()

    def _observe_answers(self) -> None:
        """Wraps the exchange's message handler. ccxt binds the handler when it makes
        a websocket client, so this must happen before any watch."""
        handle = self.exchange.handle_message

        def observed(client: Any, message: Any) -> Any:
            pending = list(client.futures.values())
            rejected_before = set(client.rejections)
            result = handle(client, message)
            ended = _session_ended(message) or _orphaned_rejection(client, rejected_before)
            if ended is not None:
                client.reject(ended)  # every pending watch fails: the stream resubscribes
            elif not any(_failed(future) for future in pending):
                self._answered()  # an answer that failed no watch: the stream is connected
            return result

        self.exchange.handle_message = observed
        on_connected = self.exchange.on_connected

        def opened(client: Any, message: Any = None) -> Any:
            result = on_connected(client, message)
            # A stream subscribed by its URL's listen key (binance's futures) sends no
            # acknowledgement: the exchange took the key, and the open socket is the answer.
            if any(key in client.url for key in self._listen_keys()):
                self._answered()
            return result

        self.exchange.on_connected = opened

    def _listen_keys(self) -> list[str]:
        """binance keeps a listen key per account type in exchange.options."""
        return [options["listenKey"] for options in self.exchange.options.values()
                if isinstance(options, dict) and options.get("listenKey")]

    def _answered(self) -> None:
        if self._live and not self.connected:
            self._connected.set()
            self._was_connected = True
            event(log, "stream_connected", exchange=self.name, reconnects=self.reconnects)

    def _lost(self, exc: BaseException) -> None:
        self._connected.clear()
        self.last_error = _said(exc)
        event(log, "stream_lost", logging.WARNING, exchange=self.name, error=self.last_error)

    async def _forget_session(self) -> None:
        """Closes every websocket client and drops cached authentication, so the
        next watch connects and authenticates from scratch. A client kept open would
        keep its login (okx marks it in the client's subscriptions and would never
        send another), and binance's listen key in exchange.options would be reused
        after it expired."""
        try:
            await self.exchange.close_ws_clients()
        except Exception as exc:  # the sockets are going anyway; the next watch makes new ones
            event(log, "stream_close_failed", logging.WARNING, exchange=self.name, error=_said(exc))
        self.exchange.clients = {}
        for options in self.exchange.options.values():
            if isinstance(options, dict) and options.get("listenKey"):
                options["listenKey"] = None
                options["lastAuthenticatedTime"] = 0

    def _backoff_s(self, failures: int) -> float:
        ceiling = min(self.resubscribe_max_s, self.resubscribe_base_s * 2 ** min(failures, 30))
        # Equal jitter: at least half the ceiling, so workers do not come back in step.
        return ceiling * (0.5 + 0.5 * random.random())


def _session_ended(message: Any) -> Exception | None:
    """binance's futures streams announce an expired listen key and then go quiet;
    ccxt ignores the event, so the watches would wait forever on a dead stream."""
    if not isinstance(message, dict):
        return None
    wrapped = message.get("data")  # a combined stream wraps its events in data
    event_type = wrapped.get("e") if isinstance(wrapped, dict) else message.get("e")
    return ccxt.AuthenticationError(f"listen key expired: {message}") if event_type == "listenKeyExpired" else None


def _orphaned_rejection(client: Any, rejected_before: set[str]) -> Exception | None:
    """An error ccxt kept for a hash no watch waits on: binance's spot stream ended
    by the exchange (eventStreamTerminated) is rejected under the account type,
    never under the orders or trades the watches wait for, which would never come."""
    new = [key for key in client.rejections if key not in rejected_before]
    return client.rejections.pop(new[0]) if new else None


def _failed(future: asyncio.Future[Any]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is not None


def _said(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:400]
