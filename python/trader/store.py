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
    id: str
    source: str
    symbol: str | None
    order_spec: Any
    lifecycle_id: str | None
    timeframe: str | None
    regime: str | None
    signal_strength: Decimal | None
    claim_count: int
    venue: str | None
    submit_intent_at: datetime | None
    curation: dict[str, Any] | None
    created_at: datetime

    @property
    def spec(self) -> dict[str, Any]:
        return self.order_spec if isinstance(self.order_spec, dict) else {}


def claim(conn: psycopg.Connection, worker: str, batch_size: int, venues: Sequence[str] | None) -> list[WorkItem]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT id, source, symbol, order_spec, lifecycle_id, timeframe, regime, signal_strength, claim_count,"
            " venue, submit_intent_at, curation, created_at"
            " FROM tr_claim_orders(%s, %s, p_venues => %s) ORDER BY created_at, id",
            (worker, batch_size, list(venues) if venues else None)).fetchall()
    return [WorkItem(**r) for r in rows]


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
    """Reports a batch in one transaction. If the database refuses one report (a venue
    answer it cannot accept), the others are reported one by one and the refused one
    is reported as failed, so nothing accepted is lost and the worker goes on."""
    if not reports:
        return {}
    payload = [{"order_id": order_id, "report": body} for order_id, body in reports]
    try:
        rows = conn.execute("SELECT order_id, execution_id FROM tr_report_executions(%s)", (Jsonb(payload),)).fetchall()
        return dict(rows)
    except psycopg.Error as exc:
        if conn.broken or conn.closed:
            raise
        event(log, "batch_report_refused", logging.WARNING, error=str(exc), orders=len(reports))
    done: dict[str, str] = {}
    for order_id, body in reports:
        try:
            done[order_id] = conn.execute("SELECT tr_report_execution(%s, %s)", (order_id, Jsonb(body))).fetchone()[0]
        except psycopg.Error as exc:
            if conn.broken or conn.closed:
                raise
            event(log, "report_refused", logging.ERROR, order_id=order_id, error=str(exc), report=body)
            if body.get("status") in ("rejected", "failed"):
                continue
            failed = {"status": "failed", "venue": body.get("venue"), "reason": "INVALID_VENUE_REPORT",
                      "detail": str(exc)[:500], "venue_order_id": body.get("venue_order_id")}
            try:
                done[order_id] = conn.execute("SELECT tr_report_execution(%s, %s)", (order_id, Jsonb(failed))).fetchone()[0]
            except psycopg.Error as again:
                if conn.broken or conn.closed:
                    raise
                event(log, "report_refused", logging.ERROR, order_id=order_id, error=str(again))
    return done


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
