"""The user stream against ccxt.pro's real okx and binance classes, each talking to a
local websocket server that speaks the exchange's documented private messages: okx's
login, subscriptions and orders-channel pushes; binance's spot user data through its
WebSocket API and its futures user data stream opened with a listen key."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import ccxt.pro
import pytest
from aiohttp import WSMsgType, web

from test_ccxt_venue import BINANCE_MARKET, OKX_MARKET, ULID_ID
from trader.venues.stream import StreamEvent, UserStream

WAIT_S = 5.0  # the longest any test waits for something the stream should do


class WsServer:
    """An exchange's private websocket at `path` on 127.0.0.1, in a thread of its own;
    each request is kept in `received` and answered by `answer`."""

    path = "/"

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.refusals: list[Any] = []  # the next authentications are refused with these codes
        self.sockets: list[web.WebSocketResponse] = []
        self.loop = asyncio.new_event_loop()
        self.port = 0
        started = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(started,), daemon=True)
        self.thread.start()
        assert started.wait(WAIT_S)

    def _serve(self, started: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_get(self.path, self._private)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        started.set()
        self.loop.run_forever()

    async def _private(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            if frame.data == "ping":  # okx's keep-alive is a text frame
                await ws.send_str("pong")
                continue
            message = json.loads(frame.data)
            self.received.append(message)
            await ws.send_json(self.answer(message))
        return ws

    def answer(self, message: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def requests(self) -> list[str]:
        return [message.get("op") or message["method"] for message in self.received]

    def send(self, message: dict[str, Any]) -> None:
        """Sends `message` on every open connection."""
        self._run(lambda: asyncio.gather(*(ws.send_json(message) for ws in self.sockets if not ws.closed)))

    def drop(self) -> None:
        """Closes every connection, as the exchange does on a restart or a network cut."""
        self._run(lambda: asyncio.gather(*(ws.close() for ws in self.sockets if not ws.closed)))

    def _run(self, make: Callable[[], Any]) -> None:
        async def run() -> None:
            await make()
        asyncio.run_coroutine_threadsafe(run(), self.loop).result(WAIT_S)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(WAIT_S)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT_S)


class OkxServer(WsServer):
    """okx's private websocket: a login, then subscriptions to the orders channel."""

    path = "/ws/v5/private"

    def answer(self, message: dict[str, Any]) -> dict[str, Any]:
        if message["op"] == "login":
            if self.refusals:
                return {"event": "error", "code": self.refusals.pop(0), "msg": "Login failed.", "connId": "a4d3ae55"}
            return {"event": "login", "code": "0", "msg": "", "connId": "a4d3ae55"}
        return {"event": "subscribe", "arg": message["args"][0], "connId": "a4d3ae55"}

    def ops(self, op: str) -> int:
        return self.requests().count(op)

    def push(self, data: dict[str, Any]) -> None:
        self.send({"arg": {"channel": "orders", "instType": "ANY", "uid": "77982378738415879"}, "data": [data]})


def okx_fill(trade_id: str, fill_sz: str, acc_fill_sz: str, state: str) -> dict[str, Any]:
    """An orders-channel push for a buy of 0.5 BTC at 100 filled in part or whole."""
    return {"instType": "SPOT", "instId": "BTC-USDT", "ordId": "312269865356374016", "clOrdId": ULID_ID, "tag": "",
            "px": "100", "sz": "0.5", "ordType": "limit", "side": "buy", "posSide": "", "tdMode": "cash",
            "tgtCcy": "", "fillPx": "100", "tradeId": trade_id, "fillSz": fill_sz, "fillTime": "1767225600000",
            "fillFee": "-0.0001", "fillFeeCcy": "BTC", "execType": "T", "accFillSz": acc_fill_sz, "avgPx": "100",
            "state": state, "fee": "-0.0001", "feeCcy": "BTC", "rebate": "0", "rebateCcy": "USDT", "pnl": "0",
            "category": "normal", "uTime": "1767225600000", "cTime": "1767225500000", "reqId": "", "amendResult": "",
            "code": "0", "msg": ""}


@pytest.fixture
def server():
    server = OkxServer()
    yield server
    server.stop()


def okx_stream(server: OkxServer, name: str | None = None, resubscribe_s: float = 0.05) -> UserStream:
    exchange = ccxt.pro.okx({"apiKey": "key", "secret": "c2VjcmV0", "password": "passphrase"})
    exchange.urls["api"]["ws"] = f"ws://127.0.0.1:{server.port}/ws/v5"
    exchange.set_markets([OKX_MARKET])
    return started(exchange, name, resubscribe_s)


def started(exchange: Any, name: str | None, resubscribe_s: float = 0.05) -> UserStream:
    stream = UserStream(exchange, resubscribe_base_s=resubscribe_s, resubscribe_max_s=4 * resubscribe_s, name=name)
    stream.start()
    return stream


@pytest.fixture
def stream(server):
    stream = okx_stream(server, "test_okx")
    yield stream
    stream.close()


def until(condition: Callable[[], Any], what: str) -> Any:
    """Polls `condition` until it is truthy, for at most WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.01)
    raise AssertionError(f"waited {WAIT_S} s for {what}")


def drained_until(stream: UserStream, kinds: set[str]) -> list[StreamEvent]:
    """Everything drained until an event of each of `kinds` has come."""
    events: list[StreamEvent] = []
    until(lambda: events.extend(stream.drain()) or kinds <= {e.kind for e in events}, f"events {kinds}")
    return events


def subscribed(server: OkxServer, logins: int) -> None:
    """Waits for `logins` logins and, after each, the two subscriptions (trades and
    orders both come on okx's orders channel)."""
    until(lambda: server.ops("login") == logins and server.ops("subscribe") == 2 * logins, f"{logins} logins")


def test_a_fill_arrives_as_a_trade_and_an_order_update(server, stream):
    subscribed(server, 1)
    until(lambda: stream.connected, "connected")
    server.push(okx_fill("1016", "0.5", "0.5", "filled"))
    events = drained_until(stream, {"trade", "order"})
    trade = next(e.data for e in events if e.kind == "trade")
    assert (trade["id"], trade["order"], trade["price"], trade["amount"]) == ("1016", "312269865356374016", 100.0, 0.5)
    # ccxt's okx passes the pushed fillFee on with okx's sign (negative: charged),
    # where its REST trades negate it: whoever books the fee must take its magnitude.
    assert (trade["fee"]["cost"], trade["fee"]["currency"]) == (-0.0001, "BTC")
    assert trade["info"]["fillFee"] == "-0.0001"
    order = next(e.data for e in events if e.kind == "order")
    assert (order["clientOrderId"], order["status"], order["filled"]) == (ULID_ID, "closed", 0.5)
    assert all(e.received_at <= time.monotonic() for e in events)
    assert server.received[0]["args"][0]["apiKey"] == "key"


def test_a_dropped_connection_is_resubscribed_and_later_fills_arrive(server, caplog):
    caplog.set_level(logging.INFO, logger="trader")
    # A back-off of at least 0.2 s keeps the stream disconnected long enough to be seen.
    stream = okx_stream(server, "test_okx", resubscribe_s=0.4)
    try:
        subscribed(server, 1)
        until(lambda: stream.connected, "connected")
        dropped = time.monotonic()
        server.drop()
        until(lambda: not stream.connected, "the loss seen")
        assert time.monotonic() - dropped < 1.0  # sooner than the worker polls
        subscribed(server, 2)
        until(lambda: stream.connected, "connected again")
        server.push(okx_fill("1017", "0.2", "0.2", "partially_filled"))
        events = drained_until(stream, {"trade", "order"})
        assert [e.data["id"] for e in events if e.kind == "trade"] == ["1017"]
        assert stream.reconnects == 1
        assert "NetworkError" in (stream.last_error or "")
        lost = [r for r in caplog.records if r.getMessage() == "stream_lost"]
        assert len(lost) == 1 and lost[0].levelno == logging.WARNING
        assert lost[0].fields["exchange"] == "test_okx"  # type: ignore[attr-defined]
        assert [r.getMessage() for r in caplog.records].count("stream_connected") == 2
    finally:
        stream.close()


def test_a_refused_login_is_retried_from_a_new_connection(server):
    server.refusals = ["60009"]  # okx: "Login failed", as for an expired or revoked key
    stream = okx_stream(server)
    try:
        until(lambda: server.ops("subscribe") == 2, "the subscriptions after a second login")
        until(lambda: stream.connected, "connected")
        assert server.requests() == ["login", "login", "subscribe", "subscribe"]
        assert "AuthenticationError" in (stream.last_error or "")
        assert stream.reconnects == 1
        assert len(server.sockets) == 2      # the second login came on a new connection
        server.push(okx_fill("1018", "0.5", "0.5", "filled"))
        assert [e.data["id"] for e in drained_until(stream, {"trade"}) if e.kind == "trade"] == ["1018"]
    finally:
        stream.close()


def test_close_returns_promptly_and_ends_the_thread(server, stream):
    subscribed(server, 1)
    thread = stream._thread
    began = time.monotonic()
    stream.close()
    assert time.monotonic() - began < 2.0
    assert thread is not None and not thread.is_alive()
    assert not stream.connected
    until(lambda: all(ws.closed for ws in server.sockets), "the socket closed")
    stream.close()  # a second close is harmless


def test_drain_takes_at_most_max_events_oldest_first(server, stream):
    subscribed(server, 1)
    for n in range(3):
        server.push(okx_fill(str(2000 + n), "0.1", str(Decimal("0.1") * (n + 1)), "partially_filled"))
    until(lambda: stream._events.qsize() >= 6, "three fills and their orders")
    first = stream.drain(max_events=2)
    rest = stream.drain()
    assert len(first) == 2 and stream.drain() == []
    assert [e.data["id"] for e in first + rest if e.kind == "trade"] == ["2000", "2001", "2002"]
    # Each update as it was when it came, though ccxt updates its cached order in place.
    assert [e.data["filled"] for e in first + rest if e.kind == "order"] == [0.1, 0.2, 0.3]


def test_an_unreachable_exchange_is_retried_at_the_back_off_pace():
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    exchange = ccxt.pro.okx({"apiKey": "key", "secret": "c2VjcmV0", "password": "passphrase"})
    exchange.urls["api"]["ws"] = f"ws://127.0.0.1:{port}/ws/v5"
    exchange.set_markets([OKX_MARKET])
    stream = started(exchange, None, resubscribe_s=0.1)  # each wait at least 0.05 s
    try:
        until(lambda: stream.reconnects >= 2, "two attempts more")
        time.sleep(0.5)
        assert stream.reconnects <= 2 + 10 and not stream.connected
        assert stream.last_error is not None and stream._thread is not None and stream._thread.is_alive()
    finally:
        stream.close()


# binance: spot's user data comes through the WebSocket API, subscribed with a signed
# userDataStream.subscribe.signature request, its events wrapped with the subscription's id.

class BinanceServer(WsServer):
    path = "/ws-api/v3"

    def answer(self, message: dict[str, Any]) -> dict[str, Any]:
        if self.refusals:
            return {"id": message["id"], "status": 401,
                    "error": {"code": self.refusals.pop(0), "msg": "Invalid API-key, IP, or permissions for action."}}
        return {"id": message["id"], "status": 200, "result": {"subscriptionId": 0}}

    def push(self, event: dict[str, Any]) -> None:
        self.send({"subscriptionId": 0, "event": event})


def execution_report(trade_id: int, last_qty: str, cumulative_qty: str, status: str) -> dict[str, Any]:
    """An executionReport for a buy of 0.5 BTC at 100, filled in part or whole."""
    return {"e": "executionReport", "E": 1767225600001, "s": "BTCUSDT", "c": ULID_ID, "S": "BUY", "o": "LIMIT",
            "f": "GTC", "q": "0.50000000", "p": "100.00000000", "P": "0.00000000", "F": "0.00000000", "g": -1,
            "C": "", "x": "TRADE", "X": status, "r": "NONE", "i": 28, "l": last_qty, "z": cumulative_qty,
            "L": "100.00000000", "n": "0.00010000", "N": "BTC", "T": 1767225600000, "t": trade_id, "I": 63,
            "w": False, "m": False, "M": True, "O": 1767225500000, "Z": str(Decimal(cumulative_qty) * 100),
            "Y": str(Decimal(last_qty) * 100), "Q": "0.00000000", "W": 1767225500000, "V": "NONE"}


@pytest.fixture
def binance_server():
    server = BinanceServer()
    yield server
    server.stop()


def binance_stream(server: BinanceServer) -> UserStream:
    exchange = ccxt.pro.binance({"apiKey": "key", "secret": "secret"})
    exchange.urls["api"]["ws"]["ws-api"]["spot"] = f"ws://127.0.0.1:{server.port}/ws-api/v3"
    exchange.set_markets([BINANCE_MARKET])
    return started(exchange, "test_binance")


def test_binance_an_execution_report_arrives_as_a_trade_and_an_order_update(binance_server):
    stream = binance_stream(binance_server)
    try:
        until(lambda: stream.connected, "connected")
        subscription = binance_server.received[0]
        assert subscription["method"] == "userDataStream.subscribe.signature"
        assert subscription["params"]["apiKey"] == "key" and "signature" in subscription["params"]
        binance_server.push(execution_report(718, "0.50000000", "0.50000000", "FILLED"))
        events = drained_until(stream, {"trade", "order"})
        trade = next(e.data for e in events if e.kind == "trade")
        assert (trade["id"], trade["order"], trade["price"], trade["amount"]) == ("718", "28", 100.0, 0.5)
        assert (trade["fee"]["cost"], trade["fee"]["currency"]) == (0.0001, "BTC")
        order = next(e.data for e in events if e.kind == "order")
        assert (order["clientOrderId"], order["status"], order["filled"]) == (ULID_ID, "closed", 0.5)
    finally:
        stream.close()


def test_binance_a_stream_ended_by_the_exchange_is_subscribed_again(binance_server):
    stream = binance_stream(binance_server)
    try:
        until(lambda: stream.connected, "connected")
        # The exchange ends the subscription (the session expired) and leaves the socket open.
        binance_server.push({"e": "eventStreamTerminated", "E": 1767225600000})
        until(lambda: binance_server.requests().count("userDataStream.subscribe.signature") == 2, "a new subscription")
        until(lambda: stream.connected, "connected again")
        assert len(binance_server.sockets) == 2 and binance_server.sockets[0].closed
        assert stream.reconnects == 1 and "eventStreamTerminated" in (stream.last_error or "")
        binance_server.push(execution_report(719, "0.20000000", "0.20000000", "PARTIALLY_FILLED"))
        assert [e.data["id"] for e in drained_until(stream, {"trade"}) if e.kind == "trade"] == ["719"]
    finally:
        stream.close()


def test_binance_a_refused_subscription_is_retried(binance_server):
    binance_server.refusals = [-2015]  # the key was revoked, or lacks the permission, for now
    stream = binance_stream(binance_server)
    try:
        until(lambda: binance_server.requests().count("userDataStream.subscribe.signature") == 2, "a second subscription")
        until(lambda: stream.connected, "connected")
        # ccxt's binance forgets the refused subscription twice, and its own KeyError
        # hides the refusal: any failure is a loss, so the stream comes back all the same.
        assert stream.reconnects == 1 and stream.last_error is not None
        binance_server.push(execution_report(720, "0.50000000", "0.50000000", "FILLED"))
        assert [e.data["id"] for e in drained_until(stream, {"trade"}) if e.kind == "trade"] == ["720"]
    finally:
        stream.close()


# binance's futures: a listen key from REST (POST /fapi/v1/listenKey), a socket opened
# with it in the URL, ORDER_TRADE_UPDATE events, and listenKeyExpired when it lapses.

BINANCE_LINEAR_MARKET = BINANCE_MARKET | {"symbol": "BTC/USDT:USDT", "settle": "USDT", "settleId": "USDT", "type": "swap",
                                          "spot": False, "swap": True, "contract": True, "linear": True,
                                          "inverse": False, "contractSize": 1, "info": {}}


class BinanceFuturesServer(WsServer):
    path = "/private/ws"

    def __init__(self) -> None:
        super().__init__()
        self.listen_keys: list[str] = []  # the key of each connection, in order

    async def _private(self, request: web.Request) -> web.WebSocketResponse:
        self.listen_keys.append(request.query["listenKey"])
        return await super()._private(request)


def order_trade_update(trade_id: int, last_qty: str, cumulative_qty: str, status: str) -> dict[str, Any]:
    return {"e": "ORDER_TRADE_UPDATE", "E": 1767225600001, "T": 1767225600000,
            "o": {"s": "BTCUSDT", "c": ULID_ID, "S": "BUY", "o": "LIMIT", "f": "GTC", "q": "0.5", "p": "100",
                  "ap": "100", "sp": "0", "x": "TRADE", "X": status, "i": 28, "l": last_qty, "z": cumulative_qty,
                  "L": "100", "N": "USDT", "n": "0.02", "T": 1767225600000, "t": trade_id, "b": "0", "a": "0",
                  "m": False, "R": False, "wt": "CONTRACT_PRICE", "ot": "LIMIT", "ps": "BOTH", "cp": False,
                  "rp": "0", "pP": False, "si": 0, "ss": 0, "V": "NONE", "pm": "NONE", "gtd": 0}}


def test_binance_futures_take_a_new_listen_key_when_theirs_expires():
    server = BinanceFuturesServer()
    posted: list[str] = []

    async def fetch(self, url, method="GET", headers=None, body=None):
        # ccxt also asks for the positions (and the leverage brackets) once: none here.
        if urlsplit(url).path != "/fapi/v1/listenKey":
            return []
        posted.append(method)
        return {"listenKey": f"key{len(posted)}"}

    exchange = type("LocalBinance", (ccxt.pro.binance,), {"fetch": fetch})(
        {"apiKey": "key", "secret": "secret", "options": {"defaultType": "future"}})
    exchange.urls["api"]["ws"]["linear"] = f"ws://127.0.0.1:{server.port}/ws"
    exchange.set_markets([BINANCE_LINEAR_MARKET])
    stream = started(exchange, "test_binance_futures")
    try:
        until(lambda: stream.connected, "connected")  # the open socket: no acknowledgement comes
        server.send({"e": "listenKeyExpired", "E": 1767225600000, "listenKey": "key1"})
        until(lambda: server.listen_keys == ["key1", "key2"], "a socket with a new key")
        assert posted == ["POST", "POST"]
        until(lambda: stream.connected, "connected again")
        assert stream.reconnects == 1 and "listen key expired" in (stream.last_error or "")
        server.send(order_trade_update(721, "0.5", "0.5", "FILLED"))
        events = drained_until(stream, {"trade", "order"})
        trade = next(e.data for e in events if e.kind == "trade")
        assert (trade["id"], trade["price"], trade["amount"], trade["fee"]["cost"]) == ("721", 100.0, 0.5, 0.02)
        assert next(e.data for e in events if e.kind == "order")["clientOrderId"] == ULID_ID
    finally:
        stream.close()
        server.stop()
