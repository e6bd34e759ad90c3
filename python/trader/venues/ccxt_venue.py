"""A real exchange through ccxt, behind the venue interface.

The client order id is the Trader's work item id, passed the way each exchange
expects it and transformed, reversibly, where an exchange restricts its format. An
order is never sent twice: after a network error or a timeout the order is looked up
by client order id; when that lookup does not settle it (not found yet, failed, or
the exchange asked for a rest) the order is in flight: never resent, looked up by the
worker's follow-ups until it resolves or venue.in_flight_timeout passes. Where the
exchange cannot look orders up by client order id, it is failed with UNKNOWN_AT_VENUE
for an operator to resolve. A rate-limit answer (HTTP 418/429, ccxt's DDoSProtection
and RateLimitExceeded) opens a back-off window for the exchange (backoff.py) and is
otherwise one of those uncertain answers.

Where ccxt.pro has a user stream for the exchange (watch_my_trades, watch_orders), it
runs beside the polls (stream.py): its fills are reported as they happen, and the
polls slow to stream_poll_interval_s while it is connected. The exchange's open
orders and balances are handed to the worker for reconciliation (exchange_state).

A batch is placed concurrently through ccxt's async exchange, on an event loop the
venue owns (the worker is synchronous); ccxt's rate limiter paces the requests to the
exchange's published limits. Everything else (markets, shaping, lookups, fills,
follow-ups and cancels) goes through the sync exchange.

Configuration is the venue's row in tr_venues, params:
  exchange      ccxt exchange id (binance, kraken, ...)
  sandbox       true to trade on the exchange's test network
  options       ccxt options for the exchange
  symbols       {"BTC-USD": "BTC/USDT"}: the Trader's symbol to the exchange's (default: '-' -> '/')
  poll_interval_s  how often working orders are followed (default 2)
  timeout_ms    ccxt request timeout (default 10000)
  markets_ttl_s how long the exchange's markets (lot step, tick, limits) are kept (default 3600)
  fee_rate_ttl_s how long a price used to convert a third-currency fee is kept (default 60)
  backoff_base_s, backoff_max_s  the first and the longest back-off after a rate-limit answer (default 1, 60)
  stream        false to do without the user stream (default: on where ccxt.pro has one)
  stream_poll_interval_s  how often working orders are followed while the stream is connected (default 30)
  stream_resubscribe_base_s, stream_resubscribe_max_s  waits before subscribing again after a loss (default 1, 30)
Credentials only from the environment: TRADER_VENUE_<NAME>_API_KEY, _SECRET, _PASSWORD.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
from ulid import ULID

from trader.db import ConfigurationError
from trader.venues import ExchangeState, StreamFill, StreamNews, VenueAnswer, VenueOrder, VenueUnavailable
from trader.venues.backoff import BACKOFFS, Backoffs
from trader.venues.exchange_rules import Markets, Prices, Refusal, Shaped, lot_step, shape
from trader.venues.stream import UserStream


@dataclass(frozen=True)
class ClientIdStyle:
    """How an exchange takes a client order id and how it finds an order by it.

    The id always goes to ccxt as its unified `clientOrderId`, which ccxt puts in the
    exchange's own parameter (`param`); passing it also keeps ccxt from making one up
    (okx, for one, would send a broker id of its own)."""

    param: str                          # the exchange's parameter, as it goes on the wire
    pattern: str                        # ids matching this are sent as they are
    ulid_as_uuid: bool = False          # a ULID (128 bits) may be sent in UUID form instead
    lookup_param: str | None = None     # the parameter an order is found by; None: it cannot be
    lookup_by_list: bool = False        # look up through fetch_open_orders rather than fetch_order


# The one table of exchanges' client order ids; docs/venues.md#client-order-ids says the same.
STYLES: dict[str, ClientIdStyle] = {
    "binance": ClientIdStyle(param="newClientOrderId", pattern=r"^[.A-Z:/a-z0-9_-]{1,36}$",
                             lookup_param="origClientOrderId"),
    # okx: clOrdId is 1-32 letters and digits, so a ULID (26 of them) goes as it is.
    "okx": ClientIdStyle(param="clOrdId", pattern=r"^[A-Za-z0-9]{1,32}$", lookup_param="clOrdId"),
    # bybit: orderLinkId is up to 36 letters, digits, '-' and '_'. ccxt's fetch_order
    # would send orderId=None beside it, so the lookup goes to the same endpoint
    # (/v5/order/realtime, the account's last 500 orders of any status) through
    # fetch_open_orders, which sends only what it is given.
    "bybit": ClientIdStyle(param="orderLinkId", pattern=r"^[A-Za-z0-9_-]{1,36}$", lookup_param="orderLinkId",
                           lookup_by_list=True),
    # Kraken: cl_ord_id is a UUID or up to 18 characters; orders are fetched by txid or
    # an integer userref, never by cl_ord_id.
    "kraken": ClientIdStyle(param="cl_ord_id", pattern=r"^[!-~]{1,18}$", ulid_as_uuid=True),
}
DEFAULT_STYLE = ClientIdStyle(param="clientOrderId", pattern=r"^[A-Za-z0-9_-]{1,32}$")

# ccxt's okx stream passes okx's fee through with okx's sign (negative: charged) where
# its REST trades give the cost charged: a fill must carry the same fee whichever of
# the two brings it first.
STREAM_FEE_SIGN: dict[str, Decimal] = {"okx": Decimal(-1)}

ULID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")

# ccxt's error classes to stable reason codes; order matters (subclasses first).
REJECTIONS: list[tuple[type[Exception], str]] = [
    (ccxt.InsufficientFunds, "INSUFFICIENT_FUNDS"),
    (ccxt.BadSymbol, "BAD_SYMBOL"),
    (ccxt.InvalidOrder, "INVALID_ORDER"),
    (ccxt.AuthenticationError, "VENUE_AUTH_ERROR"),
    (ccxt.PermissionDenied, "VENUE_AUTH_ERROR"),
    (ccxt.AccountSuspended, "VENUE_AUTH_ERROR"),
    (ccxt.BadRequest, "INVALID_ORDER"),
]
UNCERTAIN = (ccxt.NetworkError,)  # RequestTimeout, ExchangeNotAvailable, DDoSProtection, ...
# Rate limits (both are NetworkErrors, neither a subclass of the other). Exchanges' documentation does
# not promise that a 418/429 on an order means it was not placed (ccxt also raises
# these for a proxy's or a CDN's answer), so such an order is looked up like any
# uncertain one, never resent.
RATE_LIMITED = (ccxt.DDoSProtection, ccxt.RateLimitExceeded)
# A rate limit is a rate limit at every exchange, whatever its body says: ccxt reads
# the exchange's own error table first, which turns okx's 429 without a code into an
# ExchangeError (a rejection) and one without a body into ExchangeNotAvailable.
_HTTP_RATE_LIMITS = {418: ccxt.DDoSProtection, 429: ccxt.RateLimitExceeded}


def _rate_limits_first(exchange: Any) -> None:
    """Makes an HTTP 418 or 429 raise ccxt's rate-limit errors before the exchange's
    own reading of the body."""
    handle_errors = exchange.handle_errors

    def handle(code: Any, reason: str, url: str, method: str, *rest: Any) -> Any:
        limit = _HTTP_RATE_LIMITS.get(int(code)) if str(code).isdigit() else None
        if limit is not None:
            body = rest[1] if len(rest) > 1 else ""
            raise limit(f"{exchange.id} {method} {url} {code} {reason} {body}"[:500])
        return handle_errors(code, reason, url, method, *rest)

    exchange.handle_errors = handle


# ccxt's credential attributes and the environment variables (after
# TRADER_VENUE_<NAME>_) they are read from.
_CREDENTIAL_VARS = {"apiKey": "API_KEY", "secret": "SECRET", "password": "PASSWORD"}


#: The batch's deadline, seen by every request of the batch's tasks.
_DEADLINE: ContextVar[float | None] = ContextVar("deadline", default=None)


class NotSent(Exception):
    """A request kept from leaving: the deadline passed, or a back-off outlasts it."""


@dataclass(frozen=True)
class Prepared:
    """An order ready to place: its client id, the exchange's market and steps."""

    order: VenueOrder
    cid: str
    market: str
    shaped: Shaped
    params: dict[str, Any]


class ClientIdRejected(ValueError):
    """The work item id cannot be expressed as this exchange's client order id."""


def client_order_id(order_id: str, style: ClientIdStyle) -> str:
    """The id the exchange sees for a work item: the id itself where allowed, else its
    UUID form when it is a ULID (both carry the same 128 bits)."""
    if re.match(style.pattern, order_id):
        return order_id
    if style.ulid_as_uuid and ULID_PATTERN.match(order_id):
        return str(ULID.from_str(order_id).to_uuid())
    raise ClientIdRejected(f"order id {order_id!r} cannot be a client order id at this exchange")


def order_id_from_client(client_id: str) -> str:
    """The inverse of client_order_id: a UUID-form id back to its ULID."""
    try:
        return str(ULID.from_uuid(uuid.UUID(client_id)))
    except ValueError:
        return client_id


def _foreign_id(placed: dict[str, Any], cid: str) -> str | None:
    """Says so when the exchange answers with a client order id that is not ours: the
    order is placed all the same (never resent), but a lookup by our id would miss it."""
    theirs = placed.get("clientOrderId")
    if theirs and theirs != cid:
        return f"the exchange placed it under client order id {theirs!r}, not {cid!r}: follow it by its exchange id"
    return None


def _rejection(exc: Exception) -> str:
    return next((code for cls, code in REJECTIONS if isinstance(exc, cls)), "VENUE_ERROR")


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _dec8(value: Any) -> Decimal:
    return Decimal(format(Decimal(str(value)).quantize(Decimal("0.00000001")).normalize(), "f"))


class CcxtVenue:
    def __init__(self, name: str, params: dict[str, Any], exchange: Any | None = None,
                 backoffs: Backoffs = BACKOFFS, async_exchange: Any | None = None,
                 stream: UserStream | None = None) -> None:
        self.name = name
        self.params = params
        self.exchange_id = params["exchange"]
        self.style = STYLES.get(self.exchange_id, DEFAULT_STYLE)
        if params.get("lookup_param"):
            self.style = replace(self.style, lookup_param=params["lookup_param"])
        self._poll_interval_s = float(params.get("poll_interval_s", 2))
        self.stream_poll_interval_s = float(params.get("stream_poll_interval_s", 30))
        if (exchange is None) != (async_exchange is None):
            # One without the other would place orders through an exchange no test or
            # configuration chose.
            raise ValueError("a ccxt venue takes both its sync and its async exchange, or neither")
        self.exchange = exchange or self._open(ccxt)
        self.async_exchange = async_exchange or self._open(ccxt_async)
        for each in (self.exchange, self.async_exchange):
            _rate_limits_first(each)
            # Reconciliation lists every open order of the account, which binance
            # answers (at a higher request weight) once ccxt stops refusing to ask.
            each.options["warnOnFetchOpenOrdersWithoutSymbol"] = False
        # The concurrent batch relies on ccxt's limiter to keep within the exchange's limits.
        self.async_exchange.enableRateLimit = True
        self._gate(self.async_exchange)
        self._loop = asyncio.new_event_loop()
        self._markets_shared_at: float | None = None
        self.backoffs = backoffs
        self.backoff_s = (float(params.get("backoff_base_s", 1)), float(params.get("backoff_max_s", 60)))
        self.markets = Markets(self.exchange, float(params.get("markets_ttl_s", 3600)))
        self.prices = Prices(self.exchange, float(params.get("fee_rate_ttl_s", 60)))
        # Exchanges handed in (tests) come with their stream, or none.
        self.stream = stream if exchange is not None else self._open_stream()
        self._stream_started = False
        self._stream_reconnects = 0

    def _open_stream(self) -> UserStream | None:
        """The exchange's user stream through ccxt.pro, where it has one and the venue
        does not turn it off (params stream: false)."""
        if not self.params.get("stream", True) or not hasattr(ccxt_pro, self.exchange_id):
            return None
        exchange = self._open(ccxt_pro)
        if not (exchange.has.get("watchMyTrades") or exchange.has.get("watchOrders")):
            return None
        return UserStream(exchange, name=self.name, resubscribe_base_s=float(self.params.get("stream_resubscribe_base_s", 1)),
                          resubscribe_max_s=float(self.params.get("stream_resubscribe_max_s", 30)))

    def _open(self, module: Any) -> Any:
        env = f"TRADER_VENUE_{self.name.upper()}_"
        config = {"enableRateLimit": True, "timeout": int(self.params.get("timeout_ms", 10000)),
                  "options": self.params.get("options") or {}}
        for key, var in _CREDENTIAL_VARS.items():
            if os.environ.get(env + var):
                config[key] = os.environ[env + var]
        exchange = getattr(module, self.exchange_id)(config)
        self._check_credentials(exchange, env)
        if self.params.get("sandbox"):
            exchange.set_sandbox_mode(True)
        return exchange

    def _check_credentials(self, exchange: Any, env: str) -> None:
        # Without them every order would fail at the exchange, one by one, as an
        # authentication error: better to refuse to start.
        missing = [key for key, required in exchange.requiredCredentials.items() if required and not getattr(exchange, key, None)]
        if missing:
            names = [env + _CREDENTIAL_VARS.get(key, key.upper()) for key in missing]
            raise ConfigurationError("venue without credentials",
                                     f"venue {self.name} ({self.exchange_id}) needs {', '.join(missing)}",
                                     f"set {' and '.join(names)} in the worker's environment")

    @property
    def can_lookup(self) -> bool:
        return self.style.lookup_param is not None

    def symbol(self, symbol: str) -> str:
        return (self.params.get("symbols") or {}).get(symbol, symbol.replace("-", "/"))

    # the interface -----------------------------------------------------------------

    def submit(self, orders: Sequence[VenueOrder], deadline: float | None = None) -> list[VenueAnswer | None]:
        if not self.backoffs.wait(self.exchange_id, deadline):
            return []  # the exchange asked for a rest that outlasts the batch: none sent
        try:
            self.markets.ensure()
        except ccxt.BaseError as exc:
            # Without the exchange's rules nothing is sent: the batch is a venue error.
            if isinstance(exc, RATE_LIMITED):
                self.backoffs.hit(self.exchange_id, *self.backoff_s)
            detail = f"the exchange's markets could not be loaded ({type(exc).__name__}: {exc}"[:400] + "); not sent"
            return [VenueAnswer("rejected", reason="VENUE_ERROR", detail=detail) for _ in orders]
        self._share_markets()
        answers: list[VenueAnswer | None] = [None] * len(orders)
        ready: dict[int, Prepared] = {}
        for i, order in enumerate(orders):
            prepared = self._prepare(order)
            if isinstance(prepared, VenueAnswer):
                answers[i] = prepared  # refused before sending
            else:
                ready[i] = prepared
        outcomes = self._loop.run_until_complete(self._place_all(list(ready.values()), deadline))
        for (i, prepared), outcome in zip(ready.items(), outcomes, strict=True):
            answers[i] = self._settle(prepared, outcome)
        return answers

    def query(self, client_order_id_: str, symbol: str | None = None, venue_order_id: str | None = None) -> VenueAnswer | None:
        self._defer_in_backoff()
        try:
            order = self._find(client_order_id_, symbol, venue_order_id)
            answer = None if order is None else self._answer(order, symbol)
        except ccxt.BaseError as exc:
            raise self._unavailable(exc) from exc
        self.backoffs.ok(self.exchange_id)
        return answer

    def cancel(self, client_order_id_: str, symbol: str | None = None, venue_order_id: str | None = None) -> VenueAnswer | None:
        self._defer_in_backoff()
        try:
            order = self._find(client_order_id_, symbol, venue_order_id)
            if order is None:
                return None
            if order.get("status") == "open":
                try:
                    self.exchange.cancel_order(order["id"], self.symbol(symbol or ""))
                except ccxt.OrderNotFound:
                    pass  # it filled or was cancelled meanwhile: the fetch below says which
                order = self.exchange.fetch_order(order["id"], self.symbol(symbol or ""))
            answer = self._answer(order, symbol)
        except ccxt.BaseError as exc:
            raise self._unavailable(exc) from exc
        self.backoffs.ok(self.exchange_id)
        return answer

    def exchange_state(self, symbols: Sequence[str] = ()) -> ExchangeState:
        """The exchange's open orders, and its balances of the base assets of the spot
        markets of `symbols` (the Trader's symbols this venue has traded)."""
        self._defer_in_backoff()
        try:
            self.markets.ensure()
            open_orders = self._open_orders()
            balances = self._balances(symbols)
        except ccxt.BaseError as exc:
            raise self._unavailable(exc) from exc
        self.backoffs.ok(self.exchange_id)
        return ExchangeState(open_orders, balances)

    def _open_orders(self) -> list[dict[str, Any]] | None:
        """Every open order of the account, in tr_reconcile_venue's terms; None when the
        exchange cannot list them."""
        if not self.exchange.has.get("fetchOpenOrders"):
            return None
        try:
            orders = self.exchange.fetch_open_orders()
        except ccxt.ArgumentsRequired:
            # An exchange that lists open orders per market only: the markets configured.
            markets = sorted(set((self.params.get("symbols") or {}).values()))
            if not markets:
                return None
            orders = [o for m in markets for o in self.exchange.fetch_open_orders(m)]
        return [self._open_order(o) for o in orders]

    @staticmethod
    def _open_order(order: dict[str, Any]) -> dict[str, Any]:
        cid = order.get("clientOrderId")
        return {"venue_order_id": str(order.get("id")), "order_id": order_id_from_client(cid) if cid else None,
                "client_order_id": cid, "symbol": order.get("symbol"), "side": order.get("side"),
                "amount": None if order.get("amount") is None else str(_dec8(order["amount"])),
                "filled": str(_dec8(order.get("filled") or 0)), "created_at": order.get("datetime")}

    def _balances(self, symbols: Sequence[str]) -> list[dict[str, Any]] | None:
        """The total balance of each base asset of the spot markets traded, with the
        Trader's symbols it stands for; None when no spot market is traded here."""
        assets: dict[str, list[str]] = {}
        steps: dict[str, Decimal | None] = {}
        for symbol in symbols:
            market = self.exchange.markets.get(self.symbol(symbol)) or {}
            if market.get("spot") and market.get("base"):
                assets.setdefault(market["base"], []).append(symbol)
                steps.setdefault(market["base"], lot_step(self.exchange, market["symbol"]))
        if not assets:
            return None
        totals = self.exchange.fetch_balance().get("total") or {}
        return [{"asset": asset, "symbols": sorted(traded), "exchange_qty": str(_dec8(totals.get(asset) or 0)),
                 "step": None if steps[asset] is None else str(steps[asset])} for asset, traded in sorted(assets.items())]

    def drain_stream(self) -> StreamNews:
        """What the user stream brought: fills in the Trader's terms, and the orders it
        says ended (or, on a stream without trades, changed), for the worker to ask
        about now. The stream starts on the first call, once the markets are loaded."""
        if self.stream is None or not self._start_stream():
            return StreamNews(connected=None if self.stream is None else False)
        news = StreamNews(connected=self.stream.connected, resync=self.stream.reconnects != self._stream_reconnects)
        self._stream_reconnects = self.stream.reconnects
        has_trades = self.stream.exchange.has.get("watchMyTrades")
        for item in self.stream.drain():
            data = item.data
            if item.kind == "trade":
                fill = self._stream_fill(data)
                if fill is not None:
                    news.fills.append(fill)
            elif not has_trades or data.get("status") in ("closed", "canceled", "cancelled", "expired", "rejected"):
                news.ended |= {str(key) for key in (data.get("id"), self._trader_id(data)) if key}
        return news

    def _start_stream(self) -> bool:
        if self._stream_started:
            return True
        try:
            self.markets.ensure()
        except ccxt.BaseError:
            return False  # the next call tries again; polling goes on meanwhile
        # Handed over before the stream's thread exists: nothing else touches them then.
        self.stream.exchange.set_markets(self.exchange.markets, self.exchange.currencies)
        self.stream.start()
        self._stream_started = True
        return True

    @staticmethod
    def _trader_id(data: dict[str, Any]) -> str | None:
        cid = data.get("clientOrderId")
        return order_id_from_client(cid) if cid else None

    def _stream_fill(self, trade: dict[str, Any]) -> StreamFill | None:
        if not trade.get("id") or trade.get("price") is None or not trade.get("amount"):
            return None
        market = self.exchange.markets.get(trade.get("symbol") or "") or {}
        fee = trade.get("fee") or {}
        if fee.get("cost") and self.exchange_id in STREAM_FEE_SIGN:
            trade = {**trade, "fee": {**fee, "cost": STREAM_FEE_SIGN[self.exchange_id] * Decimal(str(fee["cost"]))}}
        try:
            fill = self._fill(trade, market)
        except ccxt.BaseError:
            return None  # its fee could not be priced now: the polls bring the fill
        return StreamFill(order_id=self._trader_id(trade), venue_order_id=None if trade.get("order") is None
                          else str(trade["order"]), fill=fill)

    @property
    def poll_interval_s(self) -> float:
        """Polls slow down while the user stream is connected: it brings the fills."""
        if self.stream is not None and self._stream_started and self.stream.connected:
            return self.stream_poll_interval_s
        return self._poll_interval_s

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
        try:
            # aiohttp's session and connector belong to the loop: closed on it, before it.
            self._loop.run_until_complete(self.async_exchange.close())
        finally:
            self._loop.close()
        close = getattr(self.exchange, "close", None)
        if callable(close):
            close()

    # --------------------------------------------------------------------------------

    def _defer_in_backoff(self) -> None:
        """Follow-ups are deferred, not waited for, during a back-off: the worker asks
        again at its next poll, and other venues' work goes on meanwhile."""
        left = self.backoffs.remaining(self.exchange_id)
        if left > 0:
            raise VenueUnavailable(f"{self.name}: {self.exchange_id} is in a rate-limit back-off for {left:.1f} s more")

    def _unavailable(self, exc: Exception) -> VenueUnavailable:
        if isinstance(exc, RATE_LIMITED):
            self.backoffs.hit(self.exchange_id, *self.backoff_s)
        return VenueUnavailable(f"{self.name}: {type(exc).__name__}: {exc}")

    def _share_markets(self) -> None:
        """The async exchange places orders by the markets the sync one loaded, handed
        over once per load rather than loaded twice."""
        if self._markets_shared_at != self.markets.loaded_at or not self.async_exchange.markets:
            self.async_exchange.set_markets(self.exchange.markets, self.exchange.currencies)
            self._markets_shared_at = self.markets.loaded_at

    def _prepare(self, order: VenueOrder) -> Prepared | VenueAnswer:
        """The order brought to the exchange's rules, or the answer refusing it unsent."""
        try:
            cid = client_order_id(order.client_order_id, self.style)
        except ClientIdRejected as exc:
            return VenueAnswer("rejected", reason="INVALID_CLIENT_ORDER_ID", detail=str(exc))
        params: dict[str, Any] = {"clientOrderId": cid}
        if order.tif and order.order_type == "limit":
            params["timeInForce"] = order.tif.upper()
        market = self.symbol(order.symbol)
        try:
            shaped = shape(self.exchange, market, order.side, order.qty, order.limit_px, lambda: self.prices.of_symbol(market))
        except ccxt.BaseError as exc:
            return VenueAnswer("rejected", reason=_rejection(exc), detail=f"{type(exc).__name__}: {exc}"[:500])
        if isinstance(shaped, Refusal):
            return VenueAnswer("rejected", reason=shaped.reason, detail=shaped.detail)
        return Prepared(order, cid, market, shaped, params)

    def _gate(self, exchange: Any) -> None:
        """Every request of the async exchange passes ccxt's limiter and then this gate,
        right before it leaves: past the deadline it does not leave at all, and in a
        back-off window it waits the window out."""
        throttle = exchange.throttle

        async def gated(cost: Any = None) -> Any:
            waited = await throttle(cost)
            await self._admit()
            return waited

        exchange.throttle = gated

    async def _admit(self) -> None:
        deadline = _DEADLINE.get()
        left = self.backoffs.remaining(self.exchange_id)
        if left > 0:
            if deadline is not None and self.backoffs.clock() + left >= deadline:
                raise NotSent(f"{self.exchange_id}'s rate-limit back-off outlasts the deadline")
            await asyncio.sleep(left)
        if deadline is not None and time.monotonic() >= deadline:
            raise NotSent("the deadline passed before the request left")

    async def _place_all(self, batch: list[Prepared], deadline: float | None) -> list[Any]:
        """Each order's placed order or its exception, in the batch's order."""
        _DEADLINE.set(deadline)  # the tasks gather makes copy this context
        return await asyncio.gather(*(self._place(p) for p in batch), return_exceptions=True)

    async def _place(self, p: Prepared) -> dict[str, Any]:
        try:
            # ccxt takes floats; a decimal on the exchange's step converts to the float
            # whose text is that decimal, which ccxt formats back exactly.
            placed: dict[str, Any] = await self.async_exchange.create_order(
                p.market, p.order.order_type, p.order.side, float(p.shaped.qty),
                None if p.shaped.limit_px is None else float(p.shaped.limit_px), p.params)
        except RATE_LIMITED:
            # At once, so that the batch's requests still queued wait the window out.
            self.backoffs.hit(self.exchange_id, *self.backoff_s)
            raise
        self.backoffs.ok(self.exchange_id)
        return placed

    def _settle(self, p: Prepared, outcome: Any) -> VenueAnswer | None:
        """The answer for one order of the batch; None when it was not sent."""
        if isinstance(outcome, NotSent):
            return None
        if isinstance(outcome, ccxt.BaseError) and not isinstance(outcome, UNCERTAIN):
            return VenueAnswer("rejected", reason=_rejection(outcome), detail=f"{type(outcome).__name__}: {outcome}"[:500])
        if isinstance(outcome, BaseException):
            # A network error, or one that is not ccxt's (a cancelled task, a bug):
            # either way the request may have left.
            return self._after_uncertain(p.order, outcome)
        return self._placed(p, outcome)

    def _placed(self, p: Prepared, placed: dict[str, Any]) -> VenueAnswer:
        try:
            answer = self._answer(placed, p.order.symbol)
            answer.order_qty = answer.order_qty or p.shaped.qty
            answer.detail = _foreign_id(placed, p.cid) or answer.detail
            return answer
        except ccxt.BaseError:
            # Placed, but its fills could not be read now: it is working, and the
            # follow-ups read them by its exchange id.
            return VenueAnswer("working", venue_order_id=str(placed.get("id")), submitted_at=placed.get("datetime"),
                               order_qty=p.shaped.qty)

    def _after_uncertain(self, order: VenueOrder, exc: BaseException) -> VenueAnswer:
        """The request may or may not have reached the exchange: look once now, and
        when that does not settle it the order is in flight (never resent)."""
        what = f"{type(exc).__name__}: {exc}"[:300]
        if not self.can_lookup:
            return VenueAnswer("failed", reason="UNKNOWN_AT_VENUE",
                               detail=f"{what}; {self.exchange_id} cannot look orders up by client order id, so the order "
                                      "was not resent: check it at the exchange")
        if self.backoffs.remaining(self.exchange_id) > 0:
            # The follow-ups look it up once the exchange's rest is over; nothing waits here.
            return VenueAnswer.in_flight(f"{what}; to be looked up after {self.exchange_id}'s rate-limit back-off")
        try:
            found = self._find(order.client_order_id, order.symbol, None)
        except ccxt.BaseError as again:
            if isinstance(again, RATE_LIMITED):
                self.backoffs.hit(self.exchange_id, *self.backoff_s)
            return VenueAnswer.in_flight(f"{what}; the lookup by client order id failed too ({type(again).__name__})")
        if found is None:
            # An exchange may list an order a moment after accepting it: not found yet
            # is not proof it was never placed.
            return VenueAnswer.in_flight(f"{what}; not found by client order id yet")
        return self._answer(found, order.symbol)

    def _find(self, order_id: str, symbol: str | None, venue_order_id: str | None) -> dict[str, Any] | None:
        market = self.symbol(symbol or "")
        try:
            if venue_order_id:
                return self.exchange.fetch_order(venue_order_id, market)
            if not self.can_lookup:
                return None
            return self._lookup(market, client_order_id(order_id, self.style))
        except ccxt.OrderNotFound:
            return None

    def _lookup(self, market: str, cid: str) -> dict[str, Any] | None:
        """The order with this client order id, asked by the exchange's own parameter."""
        params = {str(self.style.lookup_param): cid}
        if not self.style.lookup_by_list:
            return self.exchange.fetch_order(None, market, params)
        # The list may hold others when the exchange ignores the filter: only ours counts.
        return next((o for o in self.exchange.fetch_open_orders(market, None, None, params)
                     if o.get("clientOrderId") == cid), None)

    def _answer(self, order: dict[str, Any], symbol: str | None) -> VenueAnswer:
        filled = _dec(order.get("filled")) or Decimal(0)
        amount = _dec(order.get("amount"))
        status = {"closed": "filled", "canceled": "cancelled", "cancelled": "cancelled", "expired": "cancelled",
                  "rejected": "rejected"}.get(order.get("status") or "", "working")
        if status == "working" and filled > 0:
            status = "partially_filled"
        if status == "filled" and amount is not None and filled < amount:
            status = "cancelled"  # closed short of the amount
        fills = self._fills(order, symbol) if filled > 0 else []
        # The exchange's amount is what was sent, after rounding to its lot step.
        return VenueAnswer(status, venue_order_id=str(order.get("id")), fills=fills,
                           reason="VENUE_REJECTED" if status == "rejected" else None,
                           submitted_at=order.get("datetime"), order_qty=amount if amount else None)

    def _fills(self, order: dict[str, Any], symbol: str | None) -> list[dict[str, Any]]:
        trades = [t for t in order.get("trades") or [] if t.get("id")]
        if not trades:
            market = self.symbol(symbol or order.get("symbol") or "")
            if self.exchange.has.get("fetchOrderTrades"):
                trades = self.exchange.fetch_order_trades(order["id"], market)
            else:
                trades = [t for t in self.exchange.fetch_my_trades(market) if str(t.get("order")) == str(order["id"])]
        market = self.exchange.markets.get(order.get("symbol") or self.symbol(symbol or "")) or {}
        return [self._fill(t, market) for t in trades]

    def _fill(self, trade: dict[str, Any], market: dict[str, Any]) -> dict[str, Any]:
        """A fill in the Trader's terms: the fee in the quote currency, and the fee as charged."""
        # ccxt hands numbers over as floats: back to the exchange's decimals, 8 places at most.
        px, qty = _dec8(trade["price"]), _dec8(trade["amount"])
        fee = trade.get("fee") or {}
        cost, currency = _dec(fee.get("cost")) or Decimal(0), fee.get("currency")
        fill: dict[str, Any] = {"fill_id": str(trade["id"]), "px": str(px), "qty": str(qty), "fee": "0",
                                "ts": trade.get("datetime")}
        if currency is None:
            fill["fee"] = str(cost)
            return fill
        charged: dict[str, Any] = {"cost": str(cost), "currency": currency}
        rate = self._fee_rate(currency, market, px, cost)
        if rate is None:
            # No price for it: the fee counts 0 in the quote currency, and says so.
            fill["fee_unconverted"] = True
            charged["unconverted"] = True
        else:
            fill["fee"] = str(cost if rate == 1 else (cost * rate).quantize(Decimal("0.00000001")))
        fill["fee_charged"] = charged
        return fill

    def _fee_rate(self, currency: str, market: dict[str, Any], px: Decimal, cost: Decimal) -> Decimal | None:
        """One unit of the fee's currency in the market's quote currency: 1 for the
        quote, the fill price for the base, the exchange's price for any other."""
        quote = market.get("quote")
        if currency == quote or not cost:
            return Decimal(1)
        if currency == market.get("base"):
            return px
        return None if quote is None else self.prices.rate(currency, quote)
