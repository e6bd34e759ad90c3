"""The venue interface: submit, query by client order id, cancel.

A venue answers with a VenueAnswer, which becomes the body of a report. The client
order id is always the Trader's work item id, so a venue never sees an order twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import psycopg

from trader.db import ConfigurationError


@dataclass(frozen=True)
class VenueOrder:
    """What is sent: the curated order."""

    client_order_id: str
    symbol: str
    side: str
    qty: Decimal
    order_type: str = "market"
    limit_px: Decimal | None = None
    tif: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"client_order_id": self.client_order_id, "symbol": self.symbol, "side": self.side,
                "qty": str(self.qty), "order_type": self.order_type,
                "limit_px": None if self.limit_px is None else str(self.limit_px), "tif": self.tif}


#: Not a report status: the answer of an order sent without an answer (VenueAnswer.in_flight).
IN_FLIGHT = "in_flight"


@dataclass
class VenueAnswer:
    """What a venue says of an order; status is a report status, or IN_FLIGHT."""

    status: str
    venue_order_id: str | None = None
    fills: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None
    detail: str | None = None
    submitted_at: str | None = None
    #: The quantity the venue took, when it is not the curated one (rounded to a lot step).
    order_qty: Decimal | None = None

    @classmethod
    def in_flight(cls, detail: str) -> VenueAnswer:
        """Sent, and no answer: the order may or may not be at the venue. It is never
        sent again; the worker records it in flight and looks it up until it resolves."""
        return cls(IN_FLIGHT, detail=detail)

    @property
    def filled_qty(self) -> Decimal:
        return sum((Decimal(str(f["qty"])) for f in self.fills), Decimal(0))


@dataclass(frozen=True)
class StreamFill:
    """A fill a venue's user stream delivered as it happened: its order by the Trader's
    id (from the client order id) or by the exchange's order id, and the fill in the
    Trader's terms (as a report carries it)."""

    order_id: str | None
    venue_order_id: str | None
    fill: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"order_id": self.order_id, "venue_order_id": self.venue_order_id, "fills": [self.fill]}


@dataclass
class StreamNews:
    """What a venue's user stream brought since it was last asked: fills, and the
    orders (by Trader id or exchange order id) it says have ended, to be asked about now."""

    fills: list[StreamFill] = field(default_factory=list)
    ended: set[str] = field(default_factory=set)
    #: Whether the venue's stream is connected; None for a venue without one.
    connected: bool | None = None
    #: The stream subscribed again after a loss: what happened meanwhile is not
    #: replayed, so every working order of the venue is to be asked about now.
    resync: bool = False


@dataclass(frozen=True)
class ExchangeState:
    """The exchange's own view, for reconciliation (tr_reconcile_venue's input): its
    open orders, and for a spot venue its balances of the assets the Trader trades;
    None for what could not be read this time."""

    open_orders: list[dict[str, Any]] | None
    balances: list[dict[str, Any]] | None


class VenueUnavailable(Exception):
    """The venue could not be reached, or did not answer: the order's fate is unknown."""


class Venue(Protocol):
    name: str
    #: Whether query() can look an order up by client order id. Where it cannot, an
    #: order whose submission was interrupted is failed as UNKNOWN_AT_VENUE, never resent.
    can_lookup: bool

    def submit(self, orders: Sequence[VenueOrder], deadline: float | None = None) -> Sequence[VenueAnswer | None]:
        """Answers aligned with the orders: None, or no answer at the end of the list,
        for an order not sent because `deadline` (time.monotonic()) came first."""
        ...

    #: Seconds between follow-ups of an order working at this venue.
    poll_interval_s: float

    def query(self, client_order_id: str, symbol: str | None = None,
              venue_order_id: str | None = None) -> VenueAnswer | None: ...

    def cancel(self, client_order_id: str, symbol: str | None = None,
               venue_order_id: str | None = None) -> VenueAnswer | None: ...

    def drain_stream(self) -> StreamNews:
        """What the venue's user stream brought (empty without one); never blocks."""
        ...

    def exchange_state(self, symbols: Sequence[str] = ()) -> ExchangeState | None:
        """The exchange's open orders, and its balances of what `symbols` (the Trader's
        symbols this venue has traded) are made of, for reconciliation; None for a venue
        with nothing to reconcile (the paper venue's book is the database)."""
        ...

    def close(self) -> None: ...


def open_venues(conn: psycopg.Connection, names: Sequence[str] | None,
                connect: Callable[[], psycopg.Connection]) -> dict[str, Venue]:
    """The enabled venues configured in tr_venues (only `names` if given), opened. A
    venue that is not configured, or cannot be opened, is a ConfigurationError."""
    rows = conn.execute(
        "SELECT name, adapter, params FROM tr_venues WHERE enabled AND (%s::text[] IS NULL OR name = ANY (%s::text[])) ORDER BY name",
        (list(names) if names else None, list(names) if names else None)).fetchall()
    found = {name for name, _, _ in rows}
    missing = set(names or ()) - found
    if missing:
        enabled = conn.execute("SELECT string_agg(name, ', ' ORDER BY name) FROM tr_venues WHERE enabled").fetchone()[0]
        raise ConfigurationError("unknown venue", f"{', '.join(sorted(missing))} is not configured or not enabled "
                                 f"in tr_venues (enabled: {enabled or 'none'})",
                                 "check --venues, or add the venue to tr_venues")
    venues: dict[str, Venue] = {}
    for name, adapter, params in rows:
        if adapter == "paper":
            from trader.venues.paper import PaperVenue
            venues[name] = PaperVenue(name, connect)
        elif adapter == "ccxt":
            from trader.venues.ccxt_venue import CcxtVenue  # ccxt is an optional extra
            venues[name] = CcxtVenue(name, params)
        else:
            raise ConfigurationError("unsupported venue", f"venue {name}: adapter {adapter!r} is not supported by this worker",
                                     "use the adapter paper or ccxt in tr_venues, or leave the venue out of --venues")
    return venues
