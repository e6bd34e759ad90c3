"""`trader tca`: transaction cost analysis of recent orders, as text, JSON or one HTML file.

Every figure comes from the database (tr_tca_order_rows, tr_tca_summary_rows,
tr_tca_prediction_rows; definitions in docs/tca.md); this module only lays them out
and draws them. Plots use floats, which is fine for pictures; tables and JSON keep
the database's exact decimals.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from trader import status
from trader.db import connect

SINCE_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
HORIZONS = ((1, "markout_1s_bps"), (5, "markout_5s_bps"), (60, "markout_60s_bps"))

ORDER_COLUMNS = ["order_id", "symbol", "venue", "side", "created_at", "qty", "filled_qty", "fill_ratio", "avg_px",
                 "arrival_px", "arrival_source", "arrival_slip_bps", "shortfall", "shortfall_bps", "markout_1s_bps",
                 "markout_5s_bps", "markout_60s_bps", "latency_ms", "size_bucket"]
SUMMARY_COLUMNS = ["grp", "orders", "filled_qty", "fill_ratio", "mean_slip_bps", "p50_slip_bps", "p90_slip_bps",
                   "p99_slip_bps", "shortfall", "shortfall_bps", "fees", "mean_markout_1s_bps", "mean_markout_5s_bps",
                   "mean_markout_60s_bps", "p50_latency_ms", "p90_latency_ms", "p99_latency_ms"]
PREDICTION_COLUMNS = ["venue", "orders", "mean_predicted_bps", "mean_realized_bps", "mean_error_bps",
                      "mean_abs_error_bps"]
DIMENSIONS = (("venue", "By venue"), ("symbol", "By symbol"), ("size_bucket", "By size bucket (notional at arrival)"),
              ("hour_utc", "By hour of decision (UTC)"))


class TcaError(Exception):
    """A problem the user can fix: said in one line, never a traceback."""


def parse_since(text: str) -> timedelta:
    """'7d', '12h', '30m' as a timedelta."""
    match = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", text or "")
    if not match or int(match.group(1)) == 0:
        raise TcaError(f"--since must be a positive number followed by d, h or m (like 7d, 12h, 30m), got {text!r}")
    return timedelta(**{SINCE_UNITS[match.group(2)]: int(match.group(1))})


def collect(conn: psycopg.Connection, since: timedelta) -> dict[str, Any]:
    """The report: orders decided in the last `since` (by the database's clock), aggregates, prediction error."""
    report: dict[str, Any] = {"since": since}
    with conn.cursor(row_factory=dict_row) as cur:
        window = cur.execute("SELECT now() - %s::interval AS from_ts, now() AS to_ts", (since,)).fetchone()
        params = (window["from_ts"], window["to_ts"])
        report["from"], report["to"] = params
        report["orders"] = cur.execute("SELECT * FROM tr_tca_order_rows(%s, %s) ORDER BY created_at, order_id",
                                       params).fetchall()
        report["summary"] = cur.execute("SELECT * FROM tr_tca_summary_rows(%s, %s)", params).fetchall()
        report["prediction"] = cur.execute("SELECT * FROM tr_tca_prediction_rows(%s, %s)", params).fetchall()
    return report


def as_json(report: dict[str, Any]) -> str:
    return status.as_json(report)


def as_text(report: dict[str, Any]) -> str:
    lines = [f"Transaction cost analysis: orders decided from {status._cell(report['from'])} "
             f"to {status._cell(report['to'])} ({len(report['orders'])} with fills)",
             "Slippage and shortfall: positive = cost. Markouts: positive = the market moved the order's way,"
             " negative = adverse selection."]
    for dimension, title in DIMENSIONS:
        lines += ["", title]
        lines += status.table([r for r in report["summary"] if r["dimension"] == dimension], SUMMARY_COLUMNS)
    lines += ["", "Predicted against realized slippage by venue (error = predicted - realized)"]
    lines += status.table(report["prediction"], PREDICTION_COLUMNS)
    return "\n".join(line.rstrip() for line in lines)


def _figure_png(draw) -> str:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    try:
        if not draw(ax):
            ax.text(0.5, 0.5, "no data in this period", ha="center", va="center", transform=ax.transAxes)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _by_venue(orders: Sequence[dict[str, Any]], column: str) -> dict[str, list[float]]:
    values: dict[str, list[float]] = defaultdict(list)
    for row in orders:
        if row[column] is not None:
            values[row["venue"]].append(float(row[column]))
    return dict(sorted(values.items()))


def plots(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(title, base64 PNG) for each plot of the HTML report."""
    orders = report["orders"]

    def slippage(ax) -> bool:
        data = _by_venue(orders, "arrival_slip_bps")
        if data:
            ax.boxplot(list(data.values()))
            ax.set_xticks(range(1, len(data) + 1), list(data.keys()))
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_ylabel("arrival slippage (bps, + = cost)")
        return bool(data)

    def markouts(ax) -> bool:
        drawn = False
        for venue in sorted({r["venue"] for r in orders}):
            points = [(h, [float(r[c]) for r in orders if r["venue"] == venue and r[c] is not None]) for h, c in HORIZONS]
            points = [(h, sum(v) / len(v)) for h, v in points if v]
            if points:
                ax.plot([h for h, _ in points], [m for _, m in points], marker="o", label=venue)
                drawn = True
        ax.set_xscale("log")
        ax.set_xticks([h for h, _ in HORIZONS], [f"{h}s" for h, _ in HORIZONS])
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_xlabel("horizon after fill")
        ax.set_ylabel("mean markout (bps, - = adverse)")
        if drawn:
            ax.legend()
        return drawn

    def latency(ax) -> bool:
        data = _by_venue(orders, "latency_ms")
        if data:
            ax.hist(list(data.values()), bins=20, label=list(data.keys()))
            ax.legend()
        ax.set_xlabel("submission to last fill (ms)")
        ax.set_ylabel("orders")
        return bool(data)

    def prediction(ax) -> bool:
        drawn = False
        for venue in sorted({r["venue"] for r in orders}):
            pts = [(float(r["predicted_slip_bps"]), float(r["realized_slip_bps"])) for r in orders
                   if r["venue"] == venue and r["predicted_slip_bps"] is not None and r["realized_slip_bps"] is not None]
            if pts:
                ax.scatter([p for p, _ in pts], [r for _, r in pts], s=12, label=venue)
                drawn = True
        if drawn:
            low, high = ax.get_xlim()
            ax.plot([low, high], [low, high], color="grey", linewidth=0.5)
            ax.legend()
        ax.set_xlabel("predicted slippage (bps)")
        ax.set_ylabel("realized slippage (bps)")
        return drawn

    return [("Arrival slippage by venue", _figure_png(slippage)),
            ("Markout curves by venue", _figure_png(markouts)),
            ("Fill latency distribution", _figure_png(latency)),
            ("Predicted against realized slippage", _figure_png(prediction))]


def _html_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(status._cell(r[c]))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def as_html(report: dict[str, Any]) -> str:
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Trader TCA</title><style>",
             "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:12px;margin-bottom:1.5em}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#eee}",
             "</style></head><body>",
             f"<h1>Transaction cost analysis</h1><p>Orders decided from {html.escape(status._cell(report['from']))} to "
             f"{html.escape(status._cell(report['to']))}: {len(report['orders'])} with fills. Slippage and shortfall:"
             " positive = cost. Markouts: positive = the market moved the order's way after the fill, negative ="
             " adverse selection.</p>"]
    for title, png in plots(report):
        parts.append(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{png}'>")
    for dimension, title in DIMENSIONS:
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(_html_table([r for r in report["summary"] if r["dimension"] == dimension], SUMMARY_COLUMNS))
    parts.append("<h2>Predicted against realized slippage by venue</h2>")
    parts.append(_html_table(report["prediction"], PREDICTION_COLUMNS))
    parts.append("<h2>Orders</h2>")
    parts.append(_html_table(report["orders"], ORDER_COLUMNS))
    parts.append("</body></html>")
    return "\n".join(parts)


def run(args: argparse.Namespace) -> int:
    try:
        since = parse_since(args.since)
        with connect(args.dsn, autocommit=True) as conn:
            report = collect(conn, since)
        if args.html:
            with open(args.html, "w", encoding="utf-8") as out:
                out.write(as_html(report))
        print(as_json(report) if args.json else as_text(report))
        if args.html and not args.json:
            print(f"\nHTML report: {args.html}")
    except TcaError as exc:
        print(f"trader tca: {exc}", file=sys.stderr)
        return 2
    except (psycopg.Error, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"trader tca: {first}", file=sys.stderr)
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Adds `tca` to the `trader` command's subcommands."""
    parser = subparsers.add_parser(
        "tca", help="transaction cost analysis: arrival slippage, shortfall, markouts, latency, prediction error",
        description="Transaction cost analysis of the orders decided in a recent period (definitions: docs/tca.md). "
                    "Connection: --dsn, else DATABASE_URL, else the libpq variables.")
    parser.add_argument("--since", default="7d", help="how far back orders are taken, like 7d, 12h, 30m (default 7d)")
    parser.add_argument("--html", metavar="FILE", help="also write one self-contained HTML report with plots")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--dsn", help="libpq connection string or URI")
    parser.set_defaults(func=run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """`trader tca` on its own (as `python -m trader.tca`), for tests and scripts."""
    parser = argparse.ArgumentParser(prog="trader")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["tca", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
