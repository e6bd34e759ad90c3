"""The paper venue: a simulated exchange whose matching model and order book live in
the database (tr_paper_submit and friends). It is reached on its own connection, as
a real venue's API would be, so its answers are committed independently of the
Trader's reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from trader.venues import ExchangeState, StreamNews, VenueAnswer, VenueOrder, VenueUnavailable


def answer_from_json(data: dict[str, Any]) -> VenueAnswer:
    return VenueAnswer(status=data["status"], venue_order_id=data.get("venue_order_id"),
                       fills=list(data.get("fills") or []), reason=data.get("reason"),
                       submitted_at=data.get("submitted_at"))


class PaperVenue:
    can_lookup = True
    poll_interval_s = 0.0  # resting orders are matched in the database: following them is cheap

    def __init__(self, name: str, connect: Callable[[], psycopg.Connection]) -> None:
        self.name = name
        self._connect = connect
        self._conn: psycopg.Connection | None = None

    def _call(self, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
            return self._conn.execute(query, params).fetchall()
        except psycopg.OperationalError as exc:
            self.close()
            raise VenueUnavailable(f"paper venue {self.name}: {exc}") from exc

    def submit(self, orders: Sequence[VenueOrder], deadline: float | None = None) -> list[VenueAnswer]:
        if not orders:
            return []
        rows = self._call("SELECT tr_paper_submit_batch(%s, %s)", (self.name, Jsonb([o.as_json() for o in orders])))
        return [answer_from_json(r[0]) for r in rows]

    def query(self, client_order_id: str, symbol: str | None = None, venue_order_id: str | None = None) -> VenueAnswer | None:
        data = self._call("SELECT tr_paper_order(%s, %s)", (self.name, client_order_id))[0][0]
        return None if data is None else answer_from_json(data)

    def cancel(self, client_order_id: str, symbol: str | None = None, venue_order_id: str | None = None) -> VenueAnswer | None:
        data = self._call("SELECT tr_paper_cancel(%s, %s)", (self.name, client_order_id))[0][0]
        return None if data is None else answer_from_json(data)

    def drain_stream(self) -> StreamNews:
        return StreamNews()  # its fills are in the database already

    def exchange_state(self, symbols: Sequence[str] = ()) -> ExchangeState | None:
        return None  # its book is the database: nothing to reconcile

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
