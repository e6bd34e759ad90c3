"""The worker's calls into the database: claims, checks, intents, reports.

Each call is one statement (one round trip, one transaction): the batch is the unit,
never the order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from trader.log import event

log = logging.getLogger("trader.store")


@dataclass
class WorkItem:
    """A claimed order, as the intake typed it (side, qty, ... are NULL when the
    order_spec was unusable, and the pre-trade check then says why)."""

    id: str
    source: str
    symbol: str | None
    side: str | None
    qty: Decimal | None
    order_type: str | None
    limit_px: Decimal | None
    tif: str | None
    requested_venue: str | None
    lifecycle_id: str | None
    timeframe: str | None
    regime: str | None
    signal_strength: Decimal | None
    claim_count: int
    venue: str | None
    submit_intent_at: datetime | None
    curation: dict[str, Any] | None
    created_at: datetime
    check_reason: str | None = None   # the pre-trade check: OK or a reason code
    check_detail: str | None = None
    context: dict[str, Any] | None = None  # the curation context, for an order that passed


def claim_batch(conn: psycopg.Connection, worker: str, batch_size: int, venues: Sequence[str] | None) -> list[WorkItem]:
    """Claims a batch with its pre-trade checks and curation contexts, in one round trip."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute("SELECT * FROM tr_claim_batch(%s, %s, %s)",
                           (worker, batch_size, list(venues) if venues else None)).fetchall()
    return [WorkItem(**r) for r in rows]


def release(conn: psycopg.Connection, worker: str, ids: Sequence[str], error: str) -> int:
    """Records the error a batch met and hands its orders back at once; each new claim
    counts an attempt, and the database fails an order out of attempts."""
    return conn.execute("SELECT tr_release_orders(%s, %s, %s)", (worker, list(ids), error)).fetchone()[0]


def pre_trade_check(conn: psycopg.Connection, ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    if not ids:
        return {}
    rows = conn.execute("SELECT order_id, reason, detail FROM tr_pre_trade_check(%s)", (list(ids),)).fetchall()
    return {order_id: (reason, detail) for order_id, reason, detail in rows}


def curation_context(conn: psycopg.Connection, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    return dict(conn.execute("SELECT order_id, context FROM tr_curation_context(%s)", (list(ids),)).fetchall())


def register_curator(conn: psycopg.Connection, name: str) -> None:
    conn.execute("SELECT tr_register_curator(%s)", (name,))


def record_intents(conn: psycopg.Connection, worker: str, intents: Sequence[dict[str, Any]]) -> set[str]:
    if not intents:
        return set()
    rows = conn.execute("SELECT tr_record_intents(%s, %s)", (worker, Jsonb(list(intents)))).fetchall()
    return {r[0] for r in rows}


def report(conn: psycopg.Connection, reports: Sequence[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """Reports a batch in one statement. The database records every report it can and
    turns one it cannot into a failed order (INVALID_VENUE_REPORT) or unapplied input,
    so a venue's odd answer never holds up the rest of the batch."""
    if not reports:
        return {}
    payload = [{"order_id": order_id, "report": body} for order_id, body in reports]
    rows = conn.execute("SELECT order_id, execution_id FROM tr_report_executions(%s)", (Jsonb(payload),)).fetchall()
    return dict(rows)


@dataclass
class WorkingOrder:
    order_id: str
    venue: str
    symbol: str
    status: str | None
    filled_qty: Decimal | None
    fill_count: int | None
    curation: dict[str, Any] | None
    venue_order_id: str | None


def working_orders(conn: psycopg.Connection, venues: Iterable[str]) -> list[WorkingOrder]:
    rows = conn.execute("SELECT * FROM tr_working_orders(%s)", (list(venues),)).fetchall()
    return [WorkingOrder(*r) for r in rows]


def orders_to_cancel(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return [(r[0], r[2]) for r in conn.execute("SELECT order_id, symbol, reason FROM tr_orders_to_cancel()").fetchall()]


def setting(conn: psycopg.Connection, key: str) -> str:
    return conn.execute("SELECT tr_setting(%s)", (key,)).fetchone()[0]


def mark_in_flight(conn: psycopg.Connection, worker: str, orders: Sequence[tuple[str, str]]) -> set[str]:
    """Orders sent without an answer, (order_id, what happened): handed to the follow-ups."""
    if not orders:
        return set()
    rows = conn.execute("SELECT tr_mark_in_flight(%s, %s)",
                        (worker, Jsonb([{"order_id": o, "error": e} for o, e in orders]))).fetchall()
    return {r[0] for r in rows}


def in_flight_checked(conn: psycopg.Connection, checks: Sequence[tuple[str, str | None]]) -> list[str]:
    """Lookups of in-flight orders that did not find them, (order_id, error or None when the
    venue answered it has no such order); returns the orders the database failed for it."""
    if not checks:
        return []
    rows = conn.execute("SELECT tr_in_flight_checked(%s)",
                        (Jsonb([{"order_id": o, "error": e} for o, e in checks]),)).fetchall()
    return [r[0] for r in rows]


def report_stream_fills(conn: psycopg.Connection, venue: str, events: Sequence[dict[str, Any]]) -> tuple[list[str], list[int]]:
    """Stream fills reported on their orders: (orders reported, indexes of the events
    whose order is not working at the venue yet)."""
    if not events:
        return [], []
    result = conn.execute("SELECT tr_report_stream_fills(%s, %s)", (venue, Jsonb(list(events)))).fetchone()[0]
    return list(result["reported"]), [int(n) for n in result["unmatched"]]


def reconcile_venue(conn: psycopg.Connection, venue: str, open_orders: list[dict[str, Any]] | None,
                    balances: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The exchange's open orders and balances compared with the Trader's own, in SQL:
    differences recorded for operators, orders to ask about now returned."""
    return conn.execute("SELECT tr_reconcile_venue(%s, %s::jsonb, %s::jsonb)",
                        (venue, None if open_orders is None else Jsonb(open_orders),
                         None if balances is None else Jsonb(balances))).fetchone()[0]


def traded_symbols(conn: psycopg.Connection, venue: str) -> list[str]:
    """The Trader's symbols with fills at a venue: what its balances are compared for."""
    rows = conn.execute("SELECT DISTINCT symbol FROM tr_inbox WHERE venue = %s AND filled_qty > 0 AND symbol IS NOT NULL "
                        "ORDER BY symbol", (venue,)).fetchall()
    return [r[0] for r in rows]
