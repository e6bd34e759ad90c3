"""An exchange's own rules, applied before an order is sent, and the prices that turn a
fee charged in a third currency into the quote currency.

ccxt knows each market's lot step, tick size and limits once its markets are loaded;
rounding goes through ccxt's own precision helpers so that the exchange's precision
mode (decimal places, significant digits or tick size) is honoured, and every value
ccxt hands back (strings, floats) is taken to Decimal through its text, never through
float arithmetic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ccxt
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS, TRUNCATE

Clock = Callable[[], float]

#: Currencies a third-currency fee may be priced through when no pair joins it to the quote.
BRIDGES = ("USDT", "USDC", "USD", "BTC", "ETH")


def as_decimal(value: Any) -> Decimal | None:
    """A number from ccxt as the decimal it was written as (str() of a float is its
    shortest round-tripping form, which is what the exchange sent)."""
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True)
class Refusal:
    """An order the exchange would refuse, refused before sending."""

    reason: str
    detail: str


@dataclass(frozen=True)
class Shaped:
    """An order as it may be sent: the quantity on the lot step, the price on the tick."""

    qty: Decimal
    limit_px: Decimal | None


class Markets:
    """The venue's markets, loaded once and reloaded every `ttl_s`."""

    def __init__(self, exchange: Any, ttl_s: float, clock: Clock = time.monotonic) -> None:
        self.exchange = exchange
        self.ttl_s = ttl_s
        self.clock = clock
        # Markets handed in already loaded count as fresh: nothing to ask the exchange yet.
        self.loaded_at: float | None = clock() if getattr(exchange, "markets", None) else None

    def ensure(self) -> None:
        """Loads the markets when missing or older than the ttl. A failed first load
        raises (ccxt.BaseError); a failed reload keeps the rules in hand, which the
        exchange still enforces, and is tried again at the next batch."""
        now = self.clock()
        if self.loaded_at is not None and now - self.loaded_at < self.ttl_s:
            return
        try:
            self.exchange.load_markets(reload=True)
        except ccxt.BaseError:
            if self.loaded_at is None:
                raise
            return
        self.loaded_at = now


def round_qty(exchange: Any, symbol: str, qty: Decimal) -> Decimal:
    """The quantity rounded down to the lot step; 0 when not one step fits."""
    try:
        return Decimal(exchange.amount_to_precision(symbol, str(qty)))
    except ccxt.InvalidOrder:
        return Decimal(0)  # ccxt refuses an amount that truncates to zero


def _tick_at(exchange: Any, precision: Any, value: Decimal) -> Decimal:
    """One price step at `value`, in the exchange's precision mode."""
    if exchange.precisionMode == DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(precision))
    if exchange.precisionMode == SIGNIFICANT_DIGITS:
        return Decimal(1).scaleb(value.adjusted() - int(precision) + 1)
    return Decimal(str(precision))


def lot_step(exchange: Any, symbol: str) -> Decimal | None:
    """The market's lot step (its smallest quantity increment), None when unknown."""
    market = exchange.markets.get(symbol) or {}
    precision = (market.get("precision") or {}).get("amount")
    return None if precision is None else _tick_at(exchange, precision, Decimal(1))


def passive_price(exchange: Any, symbol: str, side: str, limit_px: Decimal) -> Decimal:
    """The limit price on the tick toward the passive side: a buy rounds down and a sell
    up, so the order never pays more, nor sells for less, than its limit. ccxt rounds
    only down or to nearest, so a sell off the tick is the tick below plus one step."""
    precision = exchange.market(symbol)["precision"]["price"]
    if precision is None:
        return limit_px
    down = Decimal(exchange.decimal_to_precision(str(limit_px), TRUNCATE, precision, exchange.precisionMode))
    if side == "buy" or down == limit_px:
        return down
    return Decimal(exchange.price_to_precision(symbol, str(down + _tick_at(exchange, precision, down))))


def _limit(market: dict[str, Any], kind: str, bound: str) -> Decimal | None:
    value = as_decimal(((market.get("limits") or {}).get(kind) or {}).get(bound))
    return value if value else None  # 0 means no limit in ccxt's markets


def refusal(market: dict[str, Any], qty: Decimal, price: Decimal | None) -> Refusal | None:
    """The exchange's minimum and maximum, checked on the rounded order; the notional
    needs a price, and without one it is left to the exchange."""
    min_qty, max_qty = _limit(market, "amount", "min"), _limit(market, "amount", "max")
    min_cost = _limit(market, "cost", "min")
    if qty <= 0 or (min_qty is not None and qty < min_qty):
        return Refusal("BELOW_MIN_QTY", f"qty {qty} on the lot step is below the exchange's minimum {min_qty or 'step'}")
    if max_qty is not None and qty > max_qty:
        return Refusal("ABOVE_MAX_QTY", f"qty {qty} is above the exchange's maximum {max_qty}")
    if min_cost is not None and price is not None and qty * price < min_cost:
        return Refusal("BELOW_MIN_NOTIONAL", f"notional {qty} x {price} = {qty * price} is below the exchange's minimum {min_cost}")
    return None


def shape(exchange: Any, symbol: str, side: str, qty: Decimal, limit_px: Decimal | None,
          touch: Callable[[], Decimal | None]) -> Shaped | Refusal:
    """The order brought to the exchange's steps, or why the exchange would refuse it.
    `touch` prices a market order for the notional check, asked only when needed."""
    market = exchange.market(symbol)
    rounded = round_qty(exchange, symbol, qty)
    px = None if limit_px is None else passive_price(exchange, symbol, side, limit_px)
    needs_touch = px is None and _limit(market, "cost", "min") is not None and rounded > 0
    problem = refusal(market, rounded, touch() if needs_touch else px)
    return problem or Shaped(rounded, px)


def _ticker_price(ticker: dict[str, Any]) -> Decimal | None:
    last = as_decimal(ticker.get("last") or ticker.get("close"))
    if last:
        return last
    bid, ask = as_decimal(ticker.get("bid")), as_decimal(ticker.get("ask"))
    return (bid + ask) / 2 if bid and ask else None


class Prices:
    """The exchange's price of one currency in another, each pair's ticker kept `ttl_s`."""

    def __init__(self, exchange: Any, ttl_s: float, clock: Clock = time.monotonic) -> None:
        self.exchange = exchange
        self.ttl_s = ttl_s
        self.clock = clock
        self._tickers: dict[str, tuple[float, Decimal | None]] = {}

    def of_symbol(self, symbol: str) -> Decimal | None:
        """The last price of a market the exchange lists; None when it cannot be had."""
        if symbol not in (self.exchange.markets or {}):
            return None
        now = self.clock()
        cached = self._tickers.get(symbol)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        try:
            price = _ticker_price(self.exchange.fetch_ticker(symbol))
        except ccxt.BaseError:
            price = None
        self._tickers[symbol] = (now, price)
        return price

    def direct(self, currency: str, quote: str) -> Decimal | None:
        """One `currency` in `quote`, from CURRENCY/QUOTE or else QUOTE/CURRENCY inverted."""
        price = self.of_symbol(f"{currency}/{quote}")
        if price:
            return price
        inverse = self.of_symbol(f"{quote}/{currency}")
        return Decimal(1) / inverse if inverse else None

    def rate(self, currency: str, quote: str) -> Decimal | None:
        """One `currency` in `quote`: directly, else through one of BRIDGES."""
        price = self.direct(currency, quote)
        if price:
            return price
        for bridge in BRIDGES:
            if bridge in (currency, quote):
                continue
            first = self.direct(currency, bridge)
            second = self.direct(bridge, quote) if first else None
            if first and second:
                return first * second
        return None
