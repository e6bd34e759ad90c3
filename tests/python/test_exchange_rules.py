"""The exchange's rules before sending, and fees charged in a third currency, against
ccxt's real binance class: its markets come from a canned exchangeInfo (LOT_SIZE,
PRICE_FILTER, NOTIONAL filters as binance documents them), its orders and tickers
from canned answers. Offline: nothing leaves the process."""

from __future__ import annotations

from decimal import Decimal

import ccxt
from psycopg.types.json import Jsonb

from test_ccxt_venue import ULID_ID, Canned, binance_order, canned_exchanges
from trader.venues import VenueOrder
from trader.venues.ccxt_venue import CcxtVenue
from trader.worker import _report_body

EXCHANGE_INFO = ("GET", "/api/v3/exchangeInfo")
ORDER = ("POST", "/api/v3/order")
TICKER = ("GET", "/api/v3/ticker/24hr")


def symbol_info(symbol: str, base: str, quote: str, step: str = "0.00100000", min_qty: str = "0.00100000",
                max_qty: str = "100.00000000", tick: str = "0.01000000", min_notional: str = "5.00000000") -> dict:
    return {"symbol": symbol, "status": "TRADING", "baseAsset": base, "baseAssetPrecision": 8, "quoteAsset": quote,
            "quotePrecision": 8, "quoteAssetPrecision": 8, "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
            "isSpotTradingAllowed": True, "isMarginTradingAllowed": False, "permissions": ["SPOT"],
            "filters": [{"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "1000000.00000000", "tickSize": tick},
                        {"filterType": "LOT_SIZE", "minQty": min_qty, "maxQty": max_qty, "stepSize": step},
                        {"filterType": "NOTIONAL", "minNotional": min_notional, "applyMinToMarket": True,
                         "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5}]}


def exchange_info(*symbols: dict) -> dict:
    return {"timezone": "UTC", "serverTime": 1767225600000, "rateLimits": [], "exchangeFilters": [], "symbols": list(symbols)}


BTCUSDT = symbol_info("BTCUSDT", "BTC", "USDT")


def ticker(symbol: str, last: str) -> dict:
    return {"symbol": symbol, "lastPrice": last, "bidPrice": last, "askPrice": last, "openTime": 1767225600000,
            "closeTime": 1767225600000, "volume": "1", "quoteVolume": "1"}


def venue(answers: dict, params: dict | None = None) -> tuple[CcxtVenue, Canned]:
    canned = Canned(answers)
    exchange, async_exchange = canned_exchanges("binance", canned, {
        "apiKey": "key", "secret": "c2VjcmV0", "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                                                           "fetchMargins": False}})
    return CcxtVenue("test_binance", {"exchange": "binance", "symbols": {"BTC-USD": "BTC/USDT"}} | (params or {}),
                     exchange, async_exchange=async_exchange), canned


def order(qty: str, side: str = "buy", limit_px: str | None = None) -> VenueOrder:
    return VenueOrder(client_order_id=ULID_ID, symbol="BTC-USD", side=side, qty=Decimal(qty),
                      order_type="market" if limit_px is None else "limit",
                      limit_px=None if limit_px is None else Decimal(limit_px), tif=None if limit_px is None else "gtc")


def sent(canned: Canned) -> dict:
    return next(q for method, path, q in canned.calls if (method, path) == ORDER)


# the exchange's rules ------------------------------------------------------------------

def test_the_quantity_is_rounded_down_to_the_lot_step_and_reported_as_sent():
    v, canned = venue({EXCHANGE_INFO: [exchange_info(BTCUSDT)], TICKER: [ticker("BTCUSDT", "100.00")],
                       ORDER: [binance_order("NEW", "0.00000000") | {"origQty": "0.12300000"}]})
    [answer] = v.submit([order("0.12399999")])
    assert sent(canned)["quantity"] == "0.123", "down to the step of 0.001, never up"
    assert answer.order_qty == Decimal("0.123")
    assert _report_body(answer, "test_binance", {"order_qty": "0.12399999"})["order_qty"] == "0.123", \
        "the report says what was sent, not what was curated"


def test_below_the_minimum_quantity_is_refused_before_sending():
    v, canned = venue({EXCHANGE_INFO: [exchange_info(BTCUSDT | {"filters": symbol_info("BTCUSDT", "BTC", "USDT",
                                                                                     min_qty="0.01000000")["filters"]})]})
    [answer] = v.submit([order("0.009", limit_px="1000")])
    assert (answer.status, answer.reason) == ("rejected", "BELOW_MIN_QTY")
    [answer] = v.submit([order("0.0009", limit_px="1000")])
    assert (answer.status, answer.reason) == ("rejected", "BELOW_MIN_QTY"), "a quantity that rounds to zero"
    assert [c[:2] for c in canned.calls] == [EXCHANGE_INFO], "nothing was sent"


def test_above_the_maximum_quantity_is_refused_before_sending():
    v, canned = venue({EXCHANGE_INFO: [exchange_info(BTCUSDT)]})
    [answer] = v.submit([order("100.001", limit_px="1")])
    assert (answer.status, answer.reason) == ("rejected", "ABOVE_MAX_QTY")
    assert [c[:2] for c in canned.calls] == [EXCHANGE_INFO]


def test_below_the_minimum_notional_is_refused_before_sending():
    v, canned = venue({EXCHANGE_INFO: [exchange_info(BTCUSDT)], TICKER: [ticker("BTCUSDT", "100.00")]})
    [limit] = v.submit([order("0.049", limit_px="100")])
    assert (limit.status, limit.reason) == ("rejected", "BELOW_MIN_NOTIONAL"), "0.049 x 100 = 4.9 < 5"
    [market] = v.submit([order("0.049")])
    assert (market.status, market.reason) == ("rejected", "BELOW_MIN_NOTIONAL"), "a market order at the exchange's price"
    assert ORDER not in [c[:2] for c in canned.calls]


def test_a_limit_price_goes_to_the_tick_on_the_passive_side():
    v, canned = venue({EXCHANGE_INFO: [exchange_info(BTCUSDT)],
                       ORDER: [binance_order("NEW", "0.00000000", typ="LIMIT"), binance_order("NEW", "0.00000000", typ="LIMIT"),
                               binance_order("NEW", "0.00000000", typ="LIMIT")]})
    v.submit([order("1", "buy", "100.019")])
    v.submit([order("1", "sell", "100.011")])
    v.submit([order("1", "sell", "100.02")])
    prices = [q["price"] for method, path, q in canned.calls if (method, path) == ORDER]
    assert prices == ["100.01", "100.02", "100.02"], "a buy rounds down, a sell up: never past the limit; on the tick, as is"


def test_markets_are_loaded_once_and_again_after_their_ttl():
    v, canned = venue({EXCHANGE_INFO: [exchange_info(BTCUSDT), exchange_info(BTCUSDT)],
                       ORDER: [binance_order("NEW", "0.00000000", typ="LIMIT")] * 2}, {"markets_ttl_s": 3600})
    now = [0.0]
    v.markets.clock = lambda: now[0]
    v.submit([order("1", limit_px="100")])
    now[0] = 3599.0
    v.submit([order("1", limit_px="100")])
    assert [c[:2] for c in canned.calls].count(EXCHANGE_INFO) == 1
    v.markets.loaded_at, now[0] = 0.0, 3600.0
    v.markets.ensure()
    assert [c[:2] for c in canned.calls].count(EXCHANGE_INFO) == 2


def test_markets_that_cannot_be_loaded_are_a_venue_error_for_the_batch():
    v, canned = venue({EXCHANGE_INFO: [ccxt.ExchangeNotAvailable("binance GET exchangeInfo 503")]})
    answers = v.submit([order("1"), order("2")])
    assert [(a.status, a.reason) for a in answers] == [("rejected", "VENUE_ERROR")] * 2
    assert "not sent" in answers[0].detail and [c[:2] for c in canned.calls] == [EXCHANGE_INFO]


# fees in any currency ----------------------------------------------------------------------

BNB_FILL = {"price": "100.00000000", "qty": "1.00000000", "commission": "0.00050000", "commissionAsset": "BNB", "tradeId": 70}


def test_a_fee_in_a_third_currency_is_converted_at_the_exchange_price():
    v, canned = venue({EXCHANGE_INFO: [exchange_info(BTCUSDT, symbol_info("BNBUSDT", "BNB", "USDT"))],
                       ORDER: [binance_order("FILLED", "1.00000000", fills=[BNB_FILL])],
                       TICKER: [ticker("BNBUSDT", "600.00")]})
    [answer] = v.submit([order("1", limit_px="100")])
    assert answer.fills[0]["fee"] == "0.30000000", "0.0005 BNB at 600 USDT"
    assert answer.fills[0]["fee_charged"] == {"cost": "0.0005", "currency": "BNB"} and "fee_unconverted" not in answer.fills[0]


def test_a_fee_is_converted_through_the_inverted_pair_or_a_common_currency():
    v, _ = venue({EXCHANGE_INFO: [exchange_info(BTCUSDT, symbol_info("USDTBRL", "USDT", "BRL"))], TICKER: [ticker("USDTBRL", "5.00")]})
    v.markets.ensure()
    assert v.prices.rate("BRL", "USDT") == Decimal("0.2"), "USDT/BRL inverted"
    v, _ = venue({EXCHANGE_INFO: [exchange_info(BTCUSDT, symbol_info("BNBBTC", "BNB", "BTC"), symbol_info("BTCEUR", "BTC", "EUR"))],
                  TICKER: [ticker("BNBBTC", "0.006"), ticker("BTCEUR", "90000")]})
    v.markets.ensure()
    assert v.prices.rate("BNB", "EUR") == Decimal("540.000"), "BNB/BTC then BTC/EUR"


def test_a_fee_that_cannot_be_priced_is_marked_and_visible_to_operators(db):
    v, _ = venue({EXCHANGE_INFO: [exchange_info(BTCUSDT)], ORDER: [binance_order("FILLED", "1.00000000", fills=[BNB_FILL])]})
    [answer] = v.submit([order("1", limit_px="100")])
    fill = answer.fills[0]
    assert (fill["fee"], fill["fee_unconverted"]) == ("0", True), "no BNB price: 0 in the quote currency, and said so"
    assert fill["fee_charged"] == {"cost": "0.0005", "currency": "BNB", "unconverted": True}
    db.execute("INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec) VALUES (%s, 'decision', %s, 'BTC-USD', "
               "'{\"side\": \"buy\", \"qty\": 1}')", (ULID_ID, ULID_ID))
    db.execute("SELECT tr_report_execution(%s, %s)", (ULID_ID, Jsonb(_report_body(answer, "test_binance", None))))
    assert db.execute("SELECT fill_id, cost, currency FROM tr_unconverted_fees").fetchall() == [("70", Decimal("0.0005"), "BNB")]
    status, value, detail = db.execute("SELECT * FROM tr_health_fees()").fetchone()
    assert (status, value) == ("degraded", "1") and "BNB" in detail
