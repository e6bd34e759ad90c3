"""The worker, in process, with a ccxt venue whose exchange answers canned HTTP in
binance's documented format (and, for its user stream, okx's websocket): orders in
flight looked up until they resolve, stream fills counted once with polled ones,
and reconciliation of the exchange's open orders and balances. Offline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import ccxt
import ccxt.pro
import psycopg
import pytest

from test_ccxt_venue import ULID_ID, Canned, binance_account, binance_order, okx_order, venue
from test_ccxt_venue import okx_fill as okx_fill_rest
from test_user_stream import OkxServer, until
from test_user_stream import okx_fill as okx_ws_fill
from trader.venues.stream import UserStream
from trader.worker import Worker, WorkerConfig

VENUE = "test_binance"
TRADE = {"symbol": "BTCUSDT", "orderId": 31, "price": "100.0", "qty": "1.0", "commission": "0.1",
         "commissionAsset": "USDT", "time": 1767225600100, "isBuyer": True, "isMaker": False}


@pytest.fixture
def binance_venue_row(db: psycopg.Connection) -> Iterator[None]:
    db.execute("INSERT INTO tr_venues (name, adapter, params) VALUES (%s, 'ccxt', "
               "'{\"exchange\": \"binance\", \"symbols\": {\"BTC-USD\": \"BTC/USDT\"}, \"poll_interval_s\": 0}')", (VENUE,))
    db.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES ('BTC-USD', ARRAY['tr:market_update'], "
               "'{\"bid\": 99.9, \"ask\": 100.1}')")
    yield
    db.execute("DELETE FROM tr_venues WHERE name = %s", (VENUE,))


def worker_with(answers: dict) -> tuple[Worker, Canned]:
    v, canned = venue("binance", answers)
    v.name = VENUE
    worker = Worker(WorkerConfig(venues=[VENUE], listen=False, worker_id="in-process"))
    worker._venues = {VENUE: v}
    return worker, canned


def decide(db: psycopg.Connection, order_id: str, qty: str = "1") -> None:
    db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES (%s, 'BTC-USD', "
               "jsonb_build_object('side', 'buy', 'qty', %s::numeric, 'venue', %s::text), ARRAY['trader:execute'])",
               (order_id, qty, VENUE))


def order_row(db: psycopg.Connection, order_id: str) -> tuple:
    return db.execute("SELECT state, status::text, reason, in_flight_since IS NOT NULL FROM tr_inbox WHERE id = %s",
                      (order_id,)).fetchone()


def posts(canned: Canned) -> int:
    return [c[:2] for c in canned.calls].count(("POST", "/api/v3/order"))


NOTHING_OPEN = {("GET", "/api/v3/openOrders"): [[]] * 5, ("GET", "/api/v3/account"): [binance_account(BTC="0")] * 5}


def test_an_order_sent_without_an_answer_is_in_flight_until_the_exchange_shows_it(db, binance_venue_row):
    worker, canned = worker_with({
        ("POST", "/api/v3/order"): [ccxt.RequestTimeout("binance POST timed out")],
        ("GET", "/api/v3/order"): [ccxt.OrderNotFound("binance Order does not exist."),  # at once: not listed yet
                                   binance_order("FILLED", "1.00000000", order_id=31, cid="IF-1")],  # the follow-up
        ("GET", "/api/v3/myTrades"): [[TRADE | {"id": 91}]],
        **NOTHING_OPEN,
    })
    decide(db, "IF-1")
    try:
        worker._next_follow = float("inf")  # the batch alone first
        assert worker.tick()
        assert order_row(db, "IF-1") == ("working", "received", None, True), "in flight: not failed, not reported"
        assert worker.tick() is False, "nothing to claim: the order in flight is not claimed again"
        worker._next_follow = 0.0
        worker.tick()
    finally:
        worker._close()
    assert order_row(db, "IF-1") == ("done", "filled", None, True), "the follow-up found it and reported its fill"
    assert posts(canned) == 1, "sent once"


def test_an_order_never_found_is_failed_after_the_in_flight_timeout(db, binance_venue_row):
    db.execute("UPDATE tr_settings SET value = '1 millisecond' WHERE key = 'venue.in_flight_timeout'")
    worker, canned = worker_with({
        ("POST", "/api/v3/order"): [ccxt.RequestTimeout("binance POST timed out")],
        ("GET", "/api/v3/order"): [ccxt.OrderNotFound("binance Order does not exist.")] * 2,
        **NOTHING_OPEN,
    })
    decide(db, "IF-2")
    try:
        worker.tick()
    finally:
        worker._close()
        db.execute("UPDATE tr_settings SET value = '2 minutes' WHERE key = 'venue.in_flight_timeout'")
    state, status, reason, _ = order_row(db, "IF-2")
    assert (state, status, reason) == ("done", "failed", "VENUE_ERROR"), "never shown by the exchange: not placed"
    assert posts(canned) == 1, "and never resent"
    assert db.execute("SELECT exec_metrics->>'reason' FROM tr_strand WHERE kind = 'execution' AND decision_id = 'IF-2'"
                      ).fetchone() == ("VENUE_ERROR",), "reported to the Decision Maker"


def test_reconciliation_surfaces_an_unknown_open_order_and_stops_a_symbol_whose_balance_drifted(db, binance_venue_row):
    filled = binance_order("FILLED", "1.00000000", order_id=30, cid="RC-1", fills=[
        {"price": "100.0", "qty": "1.0", "commission": "0.1", "commissionAsset": "USDT", "tradeId": 90}])
    foreign = binance_order("NEW", "0.00000000", order_id=77, cid="web_8a2c", typ="LIMIT")
    worker, canned = worker_with({
        ("POST", "/api/v3/order"): [filled, binance_order("NEW", "0.00000000", order_id=32, cid="RC-3")],
        ("GET", "/api/v3/openOrders"): [[foreign]] * 3,
        ("GET", "/api/v3/account"): [binance_account(BTC="1.50000000")] * 3,
    })
    decide(db, "RC-1")
    try:
        worker.tick()  # the order fills; reconciliation runs at start
        differences = db.execute("SELECT kind, subject, exchange_figure, trader_figure FROM tr_open_venue_differences "
                                 "WHERE venue = %s ORDER BY kind", (VENUE,)).fetchall()
        assert differences == [("balance_drift", "BTC", Decimal("1.5"), Decimal("1")),
                               ("unknown_open_order", "77", Decimal("1"), None)], "both found, with both figures of the drift"
        assert db.execute("SELECT count(*) FROM tr_inbox WHERE venue_order_id = '77'").fetchone() == (0,), "never adopted"
        decide(db, "RC-2")
        worker.tick()
        assert order_row(db, "RC-2")[1:3] == ("rejected", "BALANCE_DRIFT"), "new orders for the symbol stop"
        assert posts(canned) == 1

        drift_id = db.execute("SELECT id FROM tr_open_venue_differences WHERE kind = 'balance_drift'").fetchone()[0]
        db.execute("SELECT tr_acknowledge_difference(%s, '0.5 BTC held before the Trader started', 'alice')", (drift_id,))
        decide(db, "RC-3")
        worker.tick()
        assert order_row(db, "RC-3")[1] == "working", "acknowledged: the symbol trades again"
        assert posts(canned) == 2
    finally:
        worker._close()


# a user stream beside the polls ------------------------------------------------------

OKX_ORDER_ID = "312269865356374016"


@pytest.fixture
def okx_venue_row(db: psycopg.Connection) -> Iterator[None]:
    db.execute("INSERT INTO tr_venues (name, adapter, params) VALUES ('test_okx', 'ccxt', "
               "'{\"exchange\": \"okx\", \"symbols\": {\"BTC-USD\": \"BTC/USDT\"}}')")
    yield
    db.execute("DELETE FROM tr_venues WHERE name = 'test_okx'")


@pytest.fixture
def okx_ws() -> Iterator[OkxServer]:
    server = OkxServer()
    yield server
    server.stop()


def okx_stream_venue(server: OkxServer, answers: dict) -> tuple[Worker, Canned, UserStream]:
    pro = ccxt.pro.okx({"apiKey": "key", "secret": "c2VjcmV0", "password": "passphrase"})
    pro.urls["api"]["ws"] = f"ws://127.0.0.1:{server.port}/ws/v5"
    stream = UserStream(pro, resubscribe_base_s=0.05, resubscribe_max_s=0.2, name="test_okx")
    v, canned = venue("okx", answers, stream=stream)
    v.name = "test_okx"
    worker = Worker(WorkerConfig(venues=["test_okx"], listen=False, worker_id="in-process", poll_interval=0))
    worker._venues = {"test_okx": v}
    worker._next_reconcile = float("inf")  # reconciliation has its own test
    return worker, canned, stream


def ticks_until(worker: Worker, condition, what: str) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        worker.tick()
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"waited 5 s for {what}")


def fills_of(db: psycopg.Connection, order_id: str) -> list[tuple]:
    return db.execute("SELECT fill_id, qty, fee FROM tr_fills WHERE order_id = %s ORDER BY fill_id", (order_id,)).fetchall()


def test_a_fill_from_the_stream_and_the_same_fill_from_a_poll_count_once(db, okx_venue_row, okx_ws):
    placed = {"code": "0", "msg": "", "data": [{"clOrdId": ULID_ID, "ordId": OKX_ORDER_ID, "sCode": "0", "sMsg": "", "tag": ""}]}
    resting = okx_order("live", "0") | {"ordId": OKX_ORDER_ID, "sz": "0.5", "px": "100", "ordType": "limit"}
    done = resting | {"state": "filled", "accFillSz": "0.5"}
    polled_fills = [okx_fill_rest(t) | {"ordId": OKX_ORDER_ID, "fillSz": "0.25", "fee": "-0.0001", "feeCcy": "BTC"}
                    for t in ("T1", "T2")]
    worker, canned, stream = okx_stream_venue(okx_ws, {
        ("POST", "/api/v5/trade/batch-orders"): [placed],
        ("GET", "/api/v5/trade/order"): [{"code": "0", "msg": "", "data": [resting]},
                                         {"code": "0", "msg": "", "data": [done]}],
        ("GET", "/api/v5/trade/fills-history"): [{"code": "0", "msg": "", "data": polled_fills}],
    })
    db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES (%s, 'BTC-USD', "
               "'{\"side\": \"buy\", \"qty\": 0.5, \"order_type\": \"limit\", \"limit_px\": 100, \"venue\": \"test_okx\"}', "
               "ARRAY['trader:execute'])", (ULID_ID,))
    try:
        worker.tick()  # placed; asked about once (resting); the stream starts
        until(lambda: okx_ws.ops("subscribe") == 2, "the stream's subscriptions")
        okx_ws.push(okx_ws_fill("T1", "0.25", "0.25", "partially_filled") | {"ordId": OKX_ORDER_ID})
        ticks_until(worker, lambda: fills_of(db, ULID_ID), "the stream's fill")
        assert fills_of(db, ULID_ID) == [("T1", Decimal("0.25"), Decimal("0.01"))], \
            "the fill as it happened; the fee charged in BTC (okx's sign taken off) priced at the fill"
        assert order_row(db, ULID_ID)[1] == "partially_filled"
        assert worker.metrics.stream_connected.labels(venue="test_okx")._value.get() == 1
        assert worker._venues["test_okx"].poll_interval_s == 30, "polls slow down while the stream brings the fills"

        worker._next_poll["test_okx"] = 0.0  # the poll comes, with both fills
        worker.tick()
        assert fills_of(db, ULID_ID) == [("T1", Decimal("0.25"), Decimal("0.01")), ("T2", Decimal("0.25"), Decimal("0.01"))], \
            "T1 once, though the stream and the poll both brought it"
        assert order_row(db, ULID_ID)[1] == "filled"
        assert db.execute("SELECT quantity FROM tr_positions WHERE symbol = 'BTC-USD'").fetchone()[0] == Decimal("0.5")

        gets = len([c for c in canned.calls if c[1] == "/api/v5/trade/order"])
        okx_ws.drop()  # the exchange restarts: the stream subscribes again, and the polls catch up
        until(lambda: stream.reconnects == 1 and stream.connected, "the stream back")
        canned.answers[("GET", "/api/v5/trade/order")] = [{"code": "0", "msg": "", "data": [resting]}]
        db.execute("INSERT INTO tr_inbox (id, source, source_id, symbol, side, qty, order_type, venue, venue_order_id, "
                   "order_qty, status, state) VALUES ('RS-1', 'decision', 'RS-1', 'BTC-USD', 'buy', 0.5, 'limit', 'test_okx', "
                   "%s, 0.5, 'working', 'working')", (OKX_ORDER_ID,))
        worker.tick()
        assert len([c for c in canned.calls if c[1] == "/api/v5/trade/order"]) == gets + 1, \
            "after a resubscription every working order is asked about at once"
    finally:
        worker._close()
