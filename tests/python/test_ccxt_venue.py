"""The ccxt venue against ccxt's real exchange classes (binance, okx, bybit: lookup by
client order id in each one's own parameter; kraken: UUID-form client ids and no such
lookup), their HTTP layer replaced by
canned responses. Offline: nothing leaves the process."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import ccxt
import ccxt.async_support as ccxt_async
from psycopg.types.json import Jsonb

import pytest

from trader.venues import IN_FLIGHT, VenueOrder, VenueUnavailable
from trader.venues.backoff import Backoffs
from trader.venues.ccxt_venue import STYLES, CcxtVenue, client_order_id, order_id_from_client
from trader.venues.stream import UserStream

ULID_ID = "01M87J2R58B88DCBJF9ZBY1D00"

SPOT = {"type": "spot", "spot": True, "margin": False, "swap": False, "future": False, "option": False, "active": True,
        "contract": False, "linear": None, "inverse": None,
        "limits": {"amount": {"min": 1e-8, "max": 1e8}, "price": {"min": 1e-8, "max": 1e8}, "cost": {"min": None, "max": None}}}
BINANCE_MARKET = SPOT | {"id": "BTCUSDT", "symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "baseId": "BTC", "quoteId": "USDT",
                         "precision": {"amount": 1e-8, "price": 1e-8},
                         "info": {"orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"], "permissions": ["SPOT"]}}
OKX_MARKET = SPOT | {"id": "BTC-USDT", "symbol": "BTC/USDT", "base": "BTC", "quote": "USDT", "baseId": "BTC", "quoteId": "USDT",
                     "precision": {"amount": 1e-8, "price": 0.1}, "info": {"instType": "SPOT"}}
BYBIT_MARKET = OKX_MARKET | {"id": "BTCUSDT", "info": {}}
KRAKEN_MARKET = SPOT | {"id": "XXBTZUSD", "symbol": "BTC/USD", "base": "BTC", "quote": "USD", "baseId": "XXBT", "quoteId": "ZUSD",
                        "precision": {"amount": 1e-8, "price": 0.1}, "altname": "XBTUSD", "info": {"altname": "XBTUSD"}}


def binance_order(status: str, executed: str, order_id: int = 28, fills=None, cid: str = ULID_ID, typ: str = "MARKET") -> dict:
    order = {"symbol": "BTCUSDT", "orderId": order_id, "orderListId": -1, "clientOrderId": cid, "transactTime": 1767225600000,
             "time": 1767225600000, "updateTime": 1767225600000, "price": "0.00000000", "origQty": "1.00000000",
             "executedQty": executed, "cummulativeQuoteQty": str(Decimal(executed) * 100), "status": status,
             "timeInForce": "GTC", "type": typ, "side": "BUY"}
    if fills is not None:
        order["fills"] = fills
    return order


class Canned:
    """The exchange's answers by (method, path), each a list consumed in order; an
    exception instance is raised instead of answering."""

    def __init__(self, answers: dict[tuple[str, str], list]) -> None:
        self.answers = {k: list(v) for k, v in answers.items()}
        self.calls: list[tuple[str, str, dict]] = []

    def fetch(self, url: str, method: str = "GET", headers=None, body=None, exchange=None):
        parts = urlsplit(url)
        if body and body[0] in "[{":  # okx and bybit post JSON; okx's orders go as a batch of one
            sent = json.loads(body)
            query = sent[0] if isinstance(sent, list) else sent
        else:
            query = {k: v[0] for k, v in parse_qs(parts.query or (body or "")).items()}
        self.calls.append((method, parts.path, query))
        answer = self.answers[(method, parts.path)].pop(0)
        if callable(answer):  # an answer that depends on what was sent
            answer = answer(query)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, Http):
            # As ccxt's own fetch does with an HTTP error: the exchange's table, then the status.
            text = json.dumps(answer.body)
            exchange.handle_errors(answer.status, "Too Many Requests", url, method, {}, text, answer.body, headers, body)
            exchange.handle_http_status_code(answer.status, "Too Many Requests", url, method, text)
            raise ccxt.ExchangeError(f"HTTP {answer.status}")
        return json.loads(json.dumps(answer))


@dataclass(frozen=True)
class Http:
    """An HTTP error answer: its status and the exchange's JSON body."""

    status: int
    body: dict


MARKETS = {"binance": BINANCE_MARKET, "okx": OKX_MARKET, "bybit": BYBIT_MARKET, "kraken": KRAKEN_MARKET}
# ccxt's bybit asks the account's kind before trading unless told: a unified account here.
OPTIONS = {"bybit": {"enableUnifiedMargin": False, "enableUnifiedAccount": True}}


def canned_exchanges(exchange_id: str, canned: Canned, config: dict, latency_s: float = 0.0) -> tuple:
    """ccxt's sync and async classes for the exchange, both answering from `canned`;
    the async one after `latency_s`, as a request's round trip would."""
    async def fetch(self, *a, **k):
        await asyncio.sleep(latency_s)
        return canned.fetch(*a, exchange=self, **k)

    sync = type(f"Canned{exchange_id}", (getattr(ccxt, exchange_id),),
                {"fetch": lambda self, *a, **k: canned.fetch(*a, exchange=self, **k)})(config)
    async_ = type(f"CannedAsync{exchange_id}", (getattr(ccxt_async, exchange_id),), {"fetch": fetch})(config)
    return sync, async_


def venue(exchange_id: str, answers: dict, backoffs: Backoffs | None = None,
          canned: Canned | None = None, latency_s: float = 0.0, rate_limit_ms: float | None = None,
          stream: UserStream | None = None) -> tuple[CcxtVenue, Canned]:
    canned = canned or Canned(answers)
    config = {"apiKey": "key", "secret": "c2VjcmV0", "password": "passphrase", "options": OPTIONS.get(exchange_id, {})}
    if rate_limit_ms is not None:
        config["rateLimit"] = rate_limit_ms
    exchange, async_exchange = canned_exchanges(exchange_id, canned, config, latency_s)
    exchange.set_markets([MARKETS[exchange_id]])
    return CcxtVenue(f"test_{exchange_id}", {"exchange": exchange_id, "symbols": {"BTC-USD": exchange.symbols[0]}}, exchange,
                     backoffs or Backoffs(sleep=_no_sleep), async_exchange, stream), canned


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"slept {seconds} s with no back-off expected")


ORDER = VenueOrder(client_order_id=ULID_ID, symbol="BTC-USD", side="buy", qty=Decimal("1"))


def test_a_fill_with_its_fee_charged_in_the_base_currency():
    v, canned = venue("binance", {("POST", "/api/v3/order"): [binance_order("FILLED", "1.00000000", fills=[
        {"price": "100.00000000", "qty": "1.00000000", "commission": "0.00100000", "commissionAsset": "BTC", "tradeId": 56}])]})
    [answer] = v.submit([ORDER])
    assert (answer.status, answer.venue_order_id) == ("filled", "28")
    assert answer.fills == [{"fill_id": "56", "px": "100", "qty": "1", "fee": "0.10000000", "ts": None,
                             "fee_charged": {"cost": "0.001", "currency": "BTC"}}], "0.001 BTC at 100 is 0.1 in the quote"
    method, path, sent = canned.calls[0]
    assert sent["newClientOrderId"] == ULID_ID, "binance takes the work item id as newClientOrderId"


def test_a_partial_fill_followed_to_completion():
    trade_57 = {"symbol": "BTCUSDT", "id": 57, "orderId": 28, "price": "100.0", "qty": "0.4", "quoteQty": "40",
                "commission": "0.04", "commissionAsset": "USDT", "time": 1767225600100, "isBuyer": True, "isMaker": False}
    trade_58 = trade_57 | {"id": 58, "qty": "0.6", "price": "100.5", "commission": "0.0603", "time": 1767225601000}
    v, canned = venue("binance", {
        ("POST", "/api/v3/order"): [binance_order("PARTIALLY_FILLED", "0.40000000", fills=[
            {"price": "100.0", "qty": "0.4", "commission": "0.04", "commissionAsset": "USDT", "tradeId": 57}])],
        ("GET", "/api/v3/order"): [binance_order("FILLED", "1.00000000")],
        ("GET", "/api/v3/myTrades"): [[trade_57, trade_58]],
    })
    [first] = v.submit([ORDER])
    assert first.status == "partially_filled" and [f["fill_id"] for f in first.fills] == ["57"]
    later = v.query(ULID_ID, "BTC-USD", first.venue_order_id)
    assert later.status == "filled"
    assert [(f["fill_id"], f["px"], f["qty"], f["fee"]) for f in later.fills] == \
        [("57", "100", "0.4", "0.04"), ("58", "100.5", "0.6", "0.0603")], "each fill keeps the exchange's trade id"


def test_a_rejection_maps_to_a_stable_reason():
    v, _ = venue("binance", {("POST", "/api/v3/order"): [ccxt.InsufficientFunds("binance Account has insufficient balance")]})
    [answer] = v.submit([ORDER])
    assert (answer.status, answer.reason) == ("rejected", "INSUFFICIENT_FUNDS")
    v, _ = venue("binance", {("POST", "/api/v3/order"): [ccxt.BadSymbol("binance does not have market symbol")]})
    assert v.submit([ORDER])[0].reason == "BAD_SYMBOL"


def test_a_timeout_is_reconciled_by_client_order_id_and_never_resent():
    v, canned = venue("binance", {
        ("POST", "/api/v3/order"): [ccxt.RequestTimeout("binance POST https://api.binance.com/api/v3/order timed out")],
        ("GET", "/api/v3/order"): [binance_order("FILLED", "1.00000000")],
        ("GET", "/api/v3/myTrades"): [[{"symbol": "BTCUSDT", "id": 60, "orderId": 28, "price": "100.0", "qty": "1.0",
                                         "commission": "0.1", "commissionAsset": "USDT", "time": 1767225600100,
                                         "isBuyer": True, "isMaker": False}]],
    })
    [answer] = v.submit([ORDER])
    assert (answer.status, [f["fill_id"] for f in answer.fills]) == ("filled", ["60"]), "the order was found, not resent"
    assert [c[:2] for c in canned.calls].count(("POST", "/api/v3/order")) == 1
    assert canned.calls[1][2]["origClientOrderId"] == ULID_ID


def test_a_timeout_with_no_order_at_the_exchange_yet_leaves_it_in_flight_never_resent():
    v, canned = venue("binance", {
        ("POST", "/api/v3/order"): [ccxt.RequestTimeout("timed out")],
        ("GET", "/api/v3/order"): [ccxt.OrderNotFound("binance Order does not exist.")],
    })
    [answer] = v.submit([ORDER])
    assert answer.status == IN_FLIGHT and "not found by client order id yet" in answer.detail
    assert [c[:2] for c in canned.calls].count(("POST", "/api/v3/order")) == 1


def test_a_timeout_whose_lookup_fails_too_leaves_it_in_flight():
    v, canned = venue("binance", {
        ("POST", "/api/v3/order"): [ccxt.RequestTimeout("timed out")],
        ("GET", "/api/v3/order"): [ccxt.ExchangeNotAvailable("binance 503")],
    })
    [answer] = v.submit([ORDER])
    assert answer.status == IN_FLIGHT and "lookup by client order id failed too" in answer.detail
    assert [c[:2] for c in canned.calls].count(("POST", "/api/v3/order")) == 1


def okx_order(state: str, filled: str, cid: str = ULID_ID) -> dict:
    """An order as okx's GET /api/v5/trade/order documents it."""
    return {"instType": "SPOT", "instId": "BTC-USDT", "ordId": "680800", "clOrdId": cid, "tag": "", "px": "",
            "sz": "1", "ordType": "market", "side": "buy", "tdMode": "cash", "tgtCcy": "base_ccy", "state": state,
            "accFillSz": filled, "fillPx": "100", "avgPx": "100", "tradeId": "", "fee": "-0.1", "feeCcy": "USDT",
            "cTime": "1767225600000", "uTime": "1767225600000"}


def okx_fill(trade_id: str) -> dict:
    """A fill as okx's GET /api/v5/trade/fills-history documents it."""
    return {"instType": "SPOT", "instId": "BTC-USDT", "tradeId": trade_id, "ordId": "680800", "clOrdId": ULID_ID,
            "billId": "1", "tag": "", "fillPx": "100", "fillSz": "1", "side": "buy", "execType": "T", "feeCcy": "USDT",
            "fee": "-0.1", "ts": "1767225600100"}


def test_okx_takes_the_order_id_as_clOrdId_and_finds_it_by_it_after_a_timeout():
    v, canned = venue("okx", {
        ("POST", "/api/v5/trade/batch-orders"): [ccxt.RequestTimeout("okx POST timed out")],
        ("GET", "/api/v5/trade/order"): [{"code": "0", "msg": "", "data": [okx_order("filled", "1")]}],
        ("GET", "/api/v5/trade/fills-history"): [{"code": "0", "msg": "", "data": [okx_fill("7001")]}],
    })
    assert v.can_lookup
    [answer] = v.submit([ORDER])
    assert canned.calls[0][2]["clOrdId"] == ULID_ID, "okx sees the work item id as it is, never one ccxt makes up"
    assert canned.calls[1][:2] == ("GET", "/api/v5/trade/order") and canned.calls[1][2]["clOrdId"] == ULID_ID
    assert "ordId" not in canned.calls[1][2], "looked up by client order id alone"
    assert (answer.status, answer.venue_order_id, [f["fill_id"] for f in answer.fills]) == ("filled", "680800", ["7001"])
    assert [c[1] for c in canned.calls].count("/api/v5/trade/batch-orders") == 1, "found, not resent"


def bybit_answer(result: dict) -> dict:
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": 1767225600000}


def bybit_order(status: str, filled: str, cid: str = ULID_ID) -> dict:
    """An order as bybit's GET /v5/order/realtime documents it."""
    return {"symbol": "BTCUSDT", "orderType": "Market", "orderLinkId": cid, "orderId": "1321052653536515584",
            "orderStatus": status, "price": "0", "qty": "1", "side": "Buy", "cumExecQty": filled, "cumExecValue": "100",
            "avgPrice": "100", "cumExecFee": "0.001", "timeInForce": "IOC", "leavesQty": "0",
            "createdTime": "1767225600000", "updatedTime": "1767225600000"}


def test_bybit_takes_the_order_id_as_orderLinkId_and_finds_it_by_it_after_a_timeout():
    v, canned = venue("bybit", {
        ("POST", "/v5/order/create"): [ccxt.RequestTimeout("bybit POST timed out")],
        ("GET", "/v5/order/realtime"): [bybit_answer({"category": "spot", "list": [bybit_order("New", "0")]})],
    })
    [answer] = v.submit([ORDER])
    assert canned.calls[0][2]["orderLinkId"] == ULID_ID
    method, path, asked = canned.calls[1]
    assert (method, path, asked["orderLinkId"]) == ("GET", "/v5/order/realtime", ULID_ID)
    assert "orderId" not in asked, "never orderId=None beside it"
    assert (answer.status, answer.venue_order_id) == ("working", "1321052653536515584")
    assert [c[1] for c in canned.calls].count("/v5/order/create") == 1


def test_bybit_without_the_order_yet_leaves_it_in_flight():
    v, canned = venue("bybit", {
        ("POST", "/v5/order/create"): [ccxt.RequestTimeout("bybit POST timed out")],
        ("GET", "/v5/order/realtime"): [bybit_answer({"category": "spot", "list": []})],
    })
    [answer] = v.submit([ORDER])
    assert answer.status == IN_FLIGHT
    assert [c[1] for c in canned.calls].count("/v5/order/create") == 1


def test_an_answer_under_another_client_id_is_kept_and_said():
    v, _ = venue("okx", {("POST", "/api/v5/trade/batch-orders"): [
        {"code": "0", "msg": "", "data": [{"clOrdId": "e847386590ce4dBC", "ordId": "680801", "sCode": "0", "sMsg": "", "tag": ""}]}]})
    [answer] = v.submit([ORDER])
    assert (answer.status, answer.venue_order_id) == ("working", "680801"), "placed: followed by its exchange id"
    assert "e847386590ce4dBC" in answer.detail


class Clock:
    """Time that moves only when slept, each sleep written down among the HTTP calls."""

    def __init__(self, canned: Canned) -> None:
        self.now, self.canned = 1000.0, canned

    def sleep(self, seconds: float) -> None:
        self.canned.calls.append(("SLEEP", "", {"s": seconds}))
        self.now += seconds


def test_a_rate_limit_on_submit_backs_off_that_exchange_only_and_never_resends():
    canned = Canned({
        ("POST", "/api/v3/order"): [Http(429, {"code": -1015, "msg": "Too many new orders; current limit is 50 orders per 10 SECOND."})],
        ("GET", "/api/v3/order"): [ccxt.OrderNotFound("binance Order does not exist.")],
        ("POST", "/0/private/AddOrder"): [{"error": [], "result": {"descr": {"order": "buy 1 XBTUSD @ market"}, "txid": ["OABC-1"]}}],
    })
    clock = Clock(canned)
    backoffs = Backoffs(clock=lambda: clock.now, sleep=clock.sleep, jitter=lambda: 1.0)
    binance, _ = venue("binance", {}, backoffs, canned)
    [answer] = binance.submit([ORDER])
    assert [c[:2] for c in canned.calls] == [("POST", "/api/v3/order")], "neither resent nor looked up during the back-off"
    assert answer.status == IN_FLIGHT and "back-off" in answer.detail, "in flight: the follow-ups look it up later"
    assert backoffs.remaining("binance") >= 1.0, "at least the first back-off"

    backoffs.hit("binance", 1.0, 60.0)  # another answer in a row: the window doubles
    assert backoffs.remaining("binance") == 2.0
    with pytest.raises(VenueUnavailable, match="back-off"):
        binance.query(ULID_ID, "BTC-USD")  # a follow-up is deferred, asked nothing
    kraken, _ = venue("kraken", {}, backoffs, canned)
    before = len(canned.calls)
    [placed] = kraken.submit([ORDER])
    assert [c[0] for c in canned.calls[before:]] == ["POST"], "another exchange neither waits nor is deferred"
    assert placed.venue_order_id == "OABC-1"
    assert binance.submit([ORDER], deadline=clock.now + 1) == [], "a back-off past the deadline: nothing sent"


def test_okx_too_many_requests_backs_off_and_is_looked_up_after_it():
    now = [0.0]
    v, canned = venue("okx", {
        ("POST", "/api/v5/trade/batch-orders"): [Http(429, {"code": "50011", "msg": "Too Many Requests"})],
        ("GET", "/api/v5/trade/order"): [{"code": "0", "msg": "", "data": [okx_order("live", "0")]}],
    }, Backoffs(clock=lambda: now[0], sleep=_no_sleep, jitter=lambda: 0.0))
    [answer] = v.submit([ORDER])
    assert v.backoffs.remaining("okx") > 0, "okx's 429 opened a back-off"
    assert answer.status == IN_FLIGHT
    with pytest.raises(VenueUnavailable, match="back-off"):
        v.query(ULID_ID, "BTC-USD")  # a follow-up during the back-off asks nothing
    now[0] += 60
    found = v.query(ULID_ID, "BTC-USD")
    assert (found.status, found.venue_order_id) == ("working", "680800"), "found by clOrdId after the back-off, not resent"
    assert [c[1] for c in canned.calls].count("/api/v5/trade/batch-orders") == 1


def test_okx_too_many_requests_without_a_code_is_a_rate_limit_not_a_rejection():
    v, canned = venue("okx", {("POST", "/api/v5/trade/batch-orders"): [Http(429, {"msg": "Too Many Requests"})]},
                      Backoffs(sleep=_no_sleep, jitter=lambda: 0.0))
    [answer] = v.submit([ORDER])
    assert v.backoffs.remaining("okx") > 0, "the 429 opened a back-off"
    assert answer.status == IN_FLIGHT, "not read as a rejection: the order may be at okx, so it is looked up later"
    assert [c[1] for c in canned.calls] == ["/api/v5/trade/batch-orders"], "sent once, nothing asked during the back-off"


def test_an_exchange_without_lookup_by_client_id_fails_the_order_as_unknown():
    v, canned = venue("kraken", {("POST", "/0/private/AddOrder"): [ccxt.RequestTimeout("kraken POST timed out")]})
    assert not v.can_lookup
    [answer] = v.submit([ORDER])
    assert (answer.status, answer.reason) == ("failed", "UNKNOWN_AT_VENUE")
    assert len(canned.calls) == 1, "nothing was sent again and nothing else was asked"
    sent_id = canned.calls[0][2]["cl_ord_id"]
    assert len(sent_id) == 36 and sent_id.count("-") == 4, "a ULID goes to kraken in UUID form"
    assert order_id_from_client(sent_id) == ULID_ID, "and comes back to the same work item id"


def test_client_ids_are_transformed_only_where_the_exchange_requires_it():
    assert client_order_id(ULID_ID, STYLES["binance"]) == ULID_ID
    assert client_order_id(ULID_ID, STYLES["okx"]) == ULID_ID, "26 letters and digits fit okx's 1-32"
    assert client_order_id(ULID_ID, STYLES["bybit"]) == ULID_ID
    assert client_order_id("D1", STYLES["kraken"]) == "D1"
    assert order_id_from_client(client_order_id(ULID_ID, STYLES["kraken"])) == ULID_ID
    v, canned = venue("binance", {})
    [answer] = v.submit([VenueOrder(client_order_id="a decision id with spaces that is far too long for binance",
                                    symbol="BTC-USD", side="buy", qty=Decimal(1))])
    assert (answer.status, answer.reason) == ("rejected", "INVALID_CLIENT_ORDER_ID") and canned.calls == []


def test_a_price_from_ccxt_is_kept_to_8_decimal_places():
    v, _ = venue("binance", {("POST", "/api/v3/order"): [binance_order("FILLED", "1.00000000", fills=[
        {"price": "0.000001234567", "qty": "1.00000000", "commission": "0", "commissionAsset": "USDT", "tradeId": 80}])]})
    assert v.submit([ORDER])[0].fills[0]["px"] == "0.00000123"


def test_fills_that_cannot_be_read_after_placing_leave_the_order_working():
    v, canned = venue("binance", {
        ("POST", "/api/v3/order"): [binance_order("FILLED", "1.00000000")],  # no fills in the answer
        ("GET", "/api/v3/myTrades"): [ccxt.RequestTimeout("binance GET myTrades timed out")],
    })
    [answer] = v.submit([ORDER])
    assert (answer.status, answer.venue_order_id) == ("working", "28"), "placed: followed up later, never failed"
    assert [c[:2] for c in canned.calls] == [("POST", "/api/v3/order"), ("GET", "/api/v3/myTrades")]


def test_cancel_finds_the_order_and_cancels_it():
    v, canned = venue("binance", {
        ("GET", "/api/v3/order"): [binance_order("NEW", "0.00000000", typ="LIMIT"), binance_order("CANCELED", "0.00000000", typ="LIMIT")],
        ("DELETE", "/api/v3/order"): [binance_order("CANCELED", "0.00000000", typ="LIMIT")],
    })
    answer = v.cancel(ULID_ID, "BTC-USD")
    assert (answer.status, answer.fills) == ("cancelled", [])
    assert [c[:2] for c in canned.calls] == [("GET", "/api/v3/order"), ("DELETE", "/api/v3/order"), ("GET", "/api/v3/order")]


def test_a_fee_charged_in_another_currency_is_recorded_as_charged(db):
    """The report keeps the venue's own fee record beside the quote-currency fee."""
    v, _ = venue("binance", {("POST", "/api/v3/order"): [binance_order("FILLED", "1.00000000", fills=[
        {"price": "100.00000000", "qty": "1.00000000", "commission": "0.00050000", "commissionAsset": "BNB", "tradeId": 70}])]})
    [answer] = v.submit([ORDER])
    assert answer.fills[0]["fee"] == "0" and answer.fills[0]["fee_unconverted"], "no BNB market here: unconverted, said so"
    db.execute("INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES (%s, 'decision', %s, 'BTC-USD', "
               "'{\"side\": \"buy\", \"qty\": 1}')", (ULID_ID, ULID_ID))
    db.execute("SELECT tr_report_execution(%s, %s)", (ULID_ID, Jsonb({"status": answer.status, "venue": "test_binance",
                                                                       "venue_order_id": answer.venue_order_id, "fills": answer.fills})))
    stored = db.execute("SELECT fills->0 FROM tr_strand WHERE kind = 'execution' AND decision_id = %s", (ULID_ID,)).fetchone()[0]
    assert stored["fee_charged"] == {"cost": "0.0005", "currency": "BNB", "unconverted": True} and stored["fee"] == 0


def test_a_worker_trades_through_a_ccxt_venue_and_reconciles_a_timeout(db):
    """The worker loop, in process, with a ccxt venue whose HTTP answers are canned: one
    order fills; the next one's submission times out and is found by client order id."""
    from trader.worker import Worker, WorkerConfig

    db.execute("INSERT INTO tr_venues (name, adapter, params) VALUES ('test_binance', 'ccxt', "
               "'{\"exchange\": \"binance\", \"symbols\": {\"BTC-USD\": \"BTC/USDT\"}, \"poll_interval_s\": 0}')")
    db.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES ('BTC-USD', ARRAY['tr:market_update'], "
               "'{\"bid\": 99.9, \"ask\": 100.1}')")
    trade = {"symbol": "BTCUSDT", "orderId": 31, "price": "100.0", "qty": "1.0", "commission": "0.001",
             "commissionAsset": "BTC", "time": 1767225600100, "isBuyer": True, "isMaker": False}
    v, canned = venue("binance", {
        ("POST", "/api/v3/order"): [
            binance_order("FILLED", "1.00000000", order_id=30, cid="CX-1", fills=[
                {"price": "100.0", "qty": "1.0", "commission": "0.001", "commissionAsset": "BTC", "tradeId": 90}]),
            ccxt.RequestTimeout("binance POST timed out"),
        ],
        ("GET", "/api/v3/order"): [binance_order("FILLED", "1.00000000", order_id=31, cid="CX-2")],
        ("GET", "/api/v3/myTrades"): [[trade | {"id": 91}]],
        # Reconciliation after the first fill: the base-currency fee left 0.999 BTC.
        ("GET", "/api/v3/openOrders"): [[]],
        ("GET", "/api/v3/account"): [binance_account(BTC="0.99900000")],
    })
    worker = Worker(WorkerConfig(venues=["test_binance"], listen=False, worker_id="in-process"))
    worker._venues = {"test_binance": v}
    try:
        for order_id in ("CX-1", "CX-2"):
            db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES (%s, 'BTC-USD', "
                       "'{\"side\": \"buy\", \"qty\": 1, \"venue\": \"test_binance\"}', ARRAY['trader:execute'])", (order_id,))
            assert worker.tick()
    finally:
        worker._close()
        db.execute("DELETE FROM tr_venues WHERE name = 'test_binance'")
    rows = dict(db.execute("SELECT decision_id, jsonb_build_array(exec_metrics->>'status', exec_metrics->>'venue_order_id', "
                           "fills->0->>'fill_id', (exec_metrics->>'fees')::numeric) FROM tr_strand WHERE kind = 'execution'").fetchall())
    assert rows == {"CX-1": ["filled", "30", "90", Decimal("0.1")], "CX-2": ["filled", "31", "91", Decimal("0.1")]}, \
        "filled with the exchange's trade ids; the base-currency fee converted to the quote"
    assert [c[:2] for c in canned.calls].count(("POST", "/api/v3/order")) == 2, "the timed-out order was not sent again"
    assert db.execute("SELECT quantity FROM tr_positions WHERE symbol = 'BTC-USD'").fetchone()[0] == 2


# a batch placed concurrently -------------------------------------------------------

def placed_as_sent(sent: dict) -> dict:
    """binance's answer to a market order, under the client order id it was sent with."""
    return binance_order("NEW", "0.00000000", order_id=int(sent["newClientOrderId"][1:]), cid=sent["newClientOrderId"])


def batch(n: int) -> list[VenueOrder]:
    return [VenueOrder(client_order_id=f"B{i}", symbol="BTC-USD", side="buy", qty=Decimal("1")) for i in range(n)]


def posted(canned: Canned) -> list[str]:
    return [q["newClientOrderId"] for method, path, q in canned.calls if (method, path) == ("POST", "/api/v3/order")]


def test_a_batch_is_placed_concurrently_each_order_once():
    v, canned = venue("binance", {("POST", "/api/v3/order"): [placed_as_sent] * 50}, latency_s=0.1, rate_limit_ms=5)
    orders = batch(50)
    try:
        started = time.monotonic()
        answers = v.submit(orders)
        elapsed = time.monotonic() - started
    finally:
        v.close()
    assert elapsed < 1.0, f"50 requests of 0.1 s took {elapsed:.2f} s: not well under a second"
    assert sorted(posted(canned)) == sorted(o.client_order_id for o in orders), "each order POSTed exactly once"
    assert [(a.status, a.venue_order_id) for a in answers] == [("working", str(i)) for i in range(50)], \
        "answers aligned with the orders"


def test_a_timeout_in_a_batch_is_looked_up_while_the_others_are_answered():
    def post(sent: dict):
        return ccxt.RequestTimeout("binance POST timed out") if sent["newClientOrderId"] == "B1" else placed_as_sent(sent)

    v, canned = venue("binance", {
        ("POST", "/api/v3/order"): [post] * 3,
        ("GET", "/api/v3/order"): [binance_order("NEW", "0.00000000", order_id=1, cid="B1")],
    }, latency_s=0.01)
    try:
        answers = v.submit(batch(3))
    finally:
        v.close()
    assert [(a.status, a.venue_order_id) for a in answers] == [("working", "0"), ("working", "1"), ("working", "2")]
    assert sorted(posted(canned)) == ["B0", "B1", "B2"], "the timed-out order was found, not resent"
    lookups = [q for method, path, q in canned.calls if (method, path) == ("GET", "/api/v3/order")]
    assert [q["origClientOrderId"] for q in lookups] == ["B1"]


def test_orders_not_started_by_the_deadline_are_neither_sent_nor_answered():
    # ccxt's limiter spaces binance's orders by a fifth of the rate limit or more, 200 ms
    # here: the deadline falls within the batch.
    v, canned = venue("binance", {("POST", "/api/v3/order"): [placed_as_sent] * 10}, rate_limit_ms=1000)
    orders = batch(10)
    try:
        answers = v.submit(orders, deadline=time.monotonic() + 0.3)
    finally:
        v.close()
    answered = [o.client_order_id for o, a in zip(orders, answers) if a is not None]
    assert len(answers) == len(orders) and 0 < len(answered) < len(orders)
    assert sorted(posted(canned)) == sorted(answered), "answered if and only if sent, each once"


def test_the_worker_reports_only_the_orders_sent():
    from types import SimpleNamespace

    from trader.curation import Curated
    from trader.venues import VenueAnswer
    from trader.worker import Worker, WorkerConfig

    class Venue:
        name = "half"

        def submit(self, orders, deadline=None):
            return [VenueAnswer("working", venue_order_id="1"), None]

    worker = Worker(WorkerConfig(venues=["half"], listen=False, worker_id="aligned"))
    worker._venues = {"half": Venue()}
    items = [SimpleNamespace(id=i, symbol="BTC-USD", side="buy", qty=Decimal(1), order_type="market", limit_px=None,
                             tif=None) for i in ("sent", "unsent")]
    reports: list = []
    worker._send({"half": [(item, Curated(approved=True)) for item in items]}, reports)
    assert [order_id for order_id, _ in reports] == ["sent"], "an order not sent is left for the next claim"


# reconciliation: the exchange's own view -------------------------------------------

def binance_account(**free: str) -> dict:
    """GET /api/v3/account as binance documents it."""
    return {"makerCommission": 10, "takerCommission": 10, "canTrade": True, "accountType": "SPOT", "updateTime": 1767225600000,
            "balances": [{"asset": asset, "free": amount, "locked": "0.00000000"} for asset, amount in free.items()],
            "permissions": ["SPOT"]}


def test_the_exchange_state_is_every_open_order_and_the_balances_of_the_assets_traded():
    v, canned = venue("binance", {
        ("GET", "/api/v3/openOrders"): [[binance_order("NEW", "0.00000000", order_id=41, cid="web_8a2c", typ="LIMIT"),
                                         binance_order("PARTIALLY_FILLED", "0.25000000", order_id=42, typ="LIMIT")]],
        ("GET", "/api/v3/account"): [binance_account(BTC="1.50000000", USDT="1000.00000000", ETH="3.00000000")],
    })
    state = v.exchange_state(["BTC-USD"])
    assert "symbol" not in canned.calls[0][2], "every open order of the account, not one market's"
    assert state.open_orders == [
        {"venue_order_id": "41", "order_id": "web_8a2c", "client_order_id": "web_8a2c", "symbol": "BTC/USDT", "side": "buy",
         "amount": "1", "filled": "0", "created_at": "2026-01-01T00:00:00.000Z"},
        {"venue_order_id": "42", "order_id": ULID_ID, "client_order_id": ULID_ID, "symbol": "BTC/USDT", "side": "buy",
         "amount": "1", "filled": "0.25", "created_at": "2026-01-01T00:00:00.000Z"}]
    assert state.balances == [{"asset": "BTC", "symbols": ["BTC-USD"], "exchange_qty": "1.5", "step": "1E-8"}], \
        "the base asset of the spot market traded, with the lot step; other assets are not the Trader's"


def test_kraken_open_orders_are_mapped_back_from_the_uuid_form_of_the_client_id():
    v, canned = venue("kraken", {
        ("POST", "/0/private/OpenOrders"): [{"error": [], "result": {"open": {"OQCLML-BW3P3-BUCMWZ": {
            "refid": None, "userref": 0, "cl_ord_id": client_order_id(ULID_ID, STYLES["kraken"]), "status": "open",
            "opentm": 1767225600.0, "starttm": 0, "expiretm": 0,
            "descr": {"pair": "XBTUSD", "type": "sell", "ordertype": "limit", "price": "30010.0", "price2": "0", "leverage": "none",
                      "order": "sell 1.00000000 XBTUSD @ limit 30010.0", "close": ""},
            "vol": "1.00000000", "vol_exec": "0.00000000", "cost": "0", "fee": "0", "price": "0", "misc": "", "oflags": "fciq"}}}}],
        ("POST", "/0/private/BalanceEx"): [{"error": [], "result": {"XXBT": {"balance": "0.5000000000", "hold_trade": "0.0000000000"},
                                                                    "ZUSD": {"balance": "100.0000", "hold_trade": "0.0000"}}}],
    })
    state = v.exchange_state(["BTC-USD"])
    [seen] = state.open_orders
    assert (seen["venue_order_id"], seen["order_id"], seen["side"]) == ("OQCLML-BW3P3-BUCMWZ", ULID_ID, "sell")
    assert state.balances == [{"asset": "BTC", "symbols": ["BTC-USD"], "exchange_qty": "0.5", "step": "1E-8"}]


def test_an_exchange_state_that_cannot_be_read_is_a_venue_unavailable():
    v, _ = venue("binance", {("GET", "/api/v3/openOrders"): [ccxt.ExchangeNotAvailable("binance 503")]})
    with pytest.raises(VenueUnavailable):
        v.exchange_state(["BTC-USD"])
