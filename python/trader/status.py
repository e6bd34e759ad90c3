"""`trader status`: the module at a glance, for a terminal or (--json) a script."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

QUERIES = {
    "pipeline": "SELECT pending, claimed, working, done, oldest_pending_age, expired_leases FROM tr_pipeline",
    "positions": "SELECT symbol, side, quantity, avg_price, mark_price, unrealized_pnl, realized_pnl, total_pnl"
                 " FROM tr_position_pnl ORDER BY symbol",
    "venues": "SELECT venue, sum(orders)::bigint AS orders,"
              " round(sum(fill_ratio * orders) / sum(orders), 4) AS fill_ratio,"
              " round(sum(mean_slip_bps * orders) / sum(orders), 4) AS mean_slip_bps,"
              " round(sum(mean_latency_ms * orders) / sum(orders), 1) AS mean_latency_ms, sum(fees) AS fees"
              " FROM tr_execution_quality GROUP BY venue ORDER BY venue",
    "unapplied": "SELECT source_table, reason, count, last_at, last_detail FROM tr_unapplied_summary ORDER BY last_at DESC",
    "curators": "SELECT curator_type, weight, confidence, executions_scored, mean_accuracy, mean_contribution"
                " FROM tr_curator_leaderboard",
    "weight_history": "SELECT curator_type, weight, confidence, mean_accuracy, rows_weighed, created_at"
                      " FROM tr_curator_weight_history ORDER BY created_at DESC, curator_type LIMIT 9",
    "lessons": "SELECT id, kind, conditions, effects, executions, insight, expires_at FROM tr_active_lessons",
    # The same functions and view as trader health, so the two never disagree.
    "health": "SELECT check_name, status, value, detail FROM tr_health()",
    "workers": "SELECT worker_id, connections, connected_since, last_active FROM tr_worker_sessions()",
    "jobs": "SELECT job, schedule, scheduled, active, last_status, last_start, last_message FROM tr_job_status()",
    "dead_letters": "SELECT order_id, symbol, venue, attempts, failed_at, coalesce(last_error, detail) AS last_error,"
                    " next_step FROM tr_dead_letters WHERE reason = 'PROCESSING_ERROR'",
    "awaiting_operator": "SELECT order_id, symbol, venue, failed_at, detail, next_step FROM tr_dead_letters"
                         " WHERE reason = 'UNKNOWN_AT_VENUE'",
    "venue_differences": "SELECT id, venue, kind, subject, symbols, exchange_figure, trader_figure, accepted_offset, drift,"
                         " acknowledged, last_seen_at FROM tr_open_venue_differences",
}


def collect(conn: psycopg.Connection) -> dict[str, Any]:
    report: dict[str, Any] = {}
    with conn.cursor(row_factory=dict_row) as cur:
        for name, query in QUERIES.items():
            report[name] = cur.execute(query).fetchall()
    report["pipeline"] = report["pipeline"][0]
    return report


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return str(value)


def as_json(report: dict[str, Any]) -> str:
    return json.dumps(report, default=_plain, indent=2)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, timedelta):
        return f"{value.total_seconds():.1f}s"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=_plain)
    return str(value)


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return text == "-"
    return True


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[str]:
    if not rows:
        return ["  (none)"]
    cells = [[_cell(r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    numeric = [all(_is_number(row[i]) for row in cells) for i in range(len(columns))]
    lines += ["  " + "  ".join(v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(row, widths))).rstrip()
              for row in cells]
    return lines


def _operations(report: dict[str, Any]) -> list[str]:
    """Health, workers, jobs, dead letters, orders awaiting an operator and venue differences."""
    worst = [c for c in report["health"] if c["status"] != "ok"]
    lines = ["Health", "  " + ("ok: every check passes (trader health)" if not worst else
                                "  ".join(f"{c['check_name']} {c['status']}" for c in worst) + "  (trader health says what to do)")]
    lines += ["", "Workers"]
    lines += table(report["workers"], ["worker_id", "connections", "connected_since", "last_active"])
    lines += ["", "Jobs"]
    lines += table(report["jobs"], ["job", "schedule", "scheduled", "active", "last_status", "last_start", "last_message"])
    lines += ["", "Dead letters"]
    lines += table(report["dead_letters"], ["order_id", "symbol", "venue", "attempts", "failed_at", "last_error", "next_step"])
    lines += ["", "Orders awaiting an operator"]
    lines += table(report["awaiting_operator"], ["order_id", "symbol", "venue", "failed_at", "detail", "next_step"])
    if report["venue_differences"]:  # only when an exchange disagrees with the books: rare, and then it matters
        lines += ["", "Venue differences (trader venues differences; trader venues acknowledge ID --why ...)"]
        lines += table(report["venue_differences"], ["id", "venue", "kind", "subject", "exchange_figure", "trader_figure",
                                                     "accepted_offset", "drift", "acknowledged", "last_seen_at"])
    return lines


def as_text(report: dict[str, Any]) -> str:
    p = report["pipeline"]
    lines = _operations(report) + ["", "Pipeline",
             f"  pending {p['pending']}  claimed {p['claimed']}  working {p['working']}  done {p['done']}"
             f"  oldest pending {_cell(p['oldest_pending_age'])}  expired leases {p['expired_leases']}",
             "", "Positions"]
    lines += table(report["positions"], ["symbol", "side", "quantity", "avg_price", "mark_price",
                                         "unrealized_pnl", "realized_pnl", "total_pnl"])
    lines += ["", "Execution quality by venue"]
    lines += table(report["venues"], ["venue", "orders", "fill_ratio", "mean_slip_bps", "mean_latency_ms", "fees"])
    lines += ["", "Input not applied"]
    lines += table(report["unapplied"], ["source_table", "reason", "count", "last_at", "last_detail"])
    lines += ["", "Curator leaderboard"]
    lines += table(report["curators"], ["curator_type", "weight", "confidence", "executions_scored", "mean_accuracy",
                                        "mean_contribution"])
    lines += ["", "Recent weight changes"]
    lines += table(report["weight_history"], ["created_at", "curator_type", "weight", "confidence", "mean_accuracy",
                                              "rows_weighed"])
    lines += ["", "Active lessons"]
    lines += [f"  {row['kind']} {row['id']} ({row['executions']} executions, until {_cell(row['expires_at'])}):"
              f" {row['insight']}" for row in report["lessons"]] or ["  (none)"]
    return "\n".join(line.rstrip() for line in lines)
