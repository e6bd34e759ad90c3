"""Operator actions from the command line: `trader orders ...`, `trader venues ...` and
`trader jobs schedule`.

Each command is one call to a database function (tr_retry_order, tr_acknowledge_order,
tr_resolve_order, tr_request_cancel, tr_acknowledge_difference, tr_schedule_jobs) that
checks the order or difference may take the action, does it in one transaction and
records who, when and why in tr_operator_actions. The rules live there; this module only parses arguments and
prints. A refusal is one line on stderr (SQLSTATE, message, hint) and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

import psycopg
from psycopg.types.json import Jsonb

from trader.db import connect

DSN_HELP = "libpq connection string or URI (default: DATABASE_URL, else the PG* variables)"


def parse_fill(text: str) -> dict[str, str]:
    """fill_id:px:qty[:fee[:ts]] as a report's fill; ts keeps its own colons (ISO 8601)."""
    parts = text.split(":", 4)
    if len(parts) < 3 or not parts[0].strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not fill_id:px:qty[:fee[:ts]]")
    fill = {"fill_id": parts[0].strip()}
    for key, value in zip(("px", "qty", "fee"), parts[1:4]):
        try:
            if not Decimal(value).is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise argparse.ArgumentTypeError(f"{key} {value!r} of fill {text!r} is not a number") from None
        fill[key] = value.strip()
    if len(parts) == 5:
        fill["ts"] = parts[4].strip()
    return fill


def _one_line(exc: psycopg.Error) -> str:
    diag = exc.diag
    lines = str(exc).strip().splitlines()
    message = diag.message_primary or (lines[0] if lines else type(exc).__name__)
    line = f"trader: {diag.sqlstate + ' ' if diag.sqlstate else ''}{message}"
    if diag.message_hint:
        line += f" (hint: {diag.message_hint})"
    return " ".join(line.split())


def _run(args: argparse.Namespace, work: Callable[[psycopg.Connection], int]) -> int:
    try:
        with connect(args.dsn, autocommit=True) as conn:
            return work(conn)
    except psycopg.Error as exc:
        print(_one_line(exc), file=sys.stderr)
        return 1


def _action(sql: str, params: Callable[[argparse.Namespace], tuple[Any, ...]], done: str) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        def work(conn: psycopg.Connection) -> int:
            action_id = conn.execute(sql, params(args)).fetchone()[0]
            status, reason = conn.execute("SELECT status::text, reason FROM tr_inbox WHERE id = %s", (args.order_id,)).fetchone()
            print(f"{args.order_id}: {done}; now {status}{' ' + reason if reason else ''} (action {action_id})")
            return 0

        return _run(args, work)

    return command


def _dead_letters(args: argparse.Namespace) -> int:
    def work(conn: psycopg.Connection) -> int:
        rows = conn.execute("SELECT order_id, symbol, coalesce(venue, '-'), reason, attempts, failed_at, "
                            "coalesce(last_error, detail, ''), next_step FROM tr_dead_letters").fetchall()
        if not rows:
            print("no dead letters")
            return 0
        for order_id, symbol, venue, reason, attempts, failed_at, error, next_step in rows:
            print(f"{order_id}  {symbol}  {venue}  {reason}  attempts {attempts}  failed {failed_at:%Y-%m-%d %H:%M:%S%z}")
            print(f"    {' '.join(error.split())[:200]}")
            print(f"    next: {next_step}")
        return 0

    return _run(args, work)


def _figure(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.normalize():f}"


def _venue_differences(args: argparse.Namespace) -> int:
    def work(conn: psycopg.Connection) -> int:
        rows = conn.execute("SELECT id, venue, kind, subject, array_to_string(symbols, ', '), exchange_figure, trader_figure, "
                            "accepted_offset, drift, acknowledged, coalesce(acknowledged_by, ''), first_seen_at, last_seen_at, "
                            "next_step FROM tr_open_venue_differences").fetchall()
        if not rows:
            print("no open venue differences")
            return 0
        for (diff_id, venue, kind, subject, symbols, exchange, trader, offset, drift, acknowledged, by,
             first_seen, last_seen, next_step) in rows:
            print(f"{diff_id}  {venue}  {kind}  {subject}  ({symbols})  first seen {first_seen:%Y-%m-%d %H:%M:%S%z}"
                  f"  last seen {last_seen:%Y-%m-%d %H:%M:%S%z}{f'  acknowledged by {by}' if acknowledged else ''}")
            if kind == "balance_drift":
                print(f"    exchange {_figure(exchange)}  Trader {_figure(trader)}  accepted offset {_figure(offset)}"
                      f"  drift {_figure(drift)}")
            else:
                print(f"    open at the exchange for {_figure(exchange)}, not placed by the Trader")
            print(f"    next: {next_step}")
        return 0

    return _run(args, work)


def _acknowledge_difference(args: argparse.Namespace) -> int:
    def work(conn: psycopg.Connection) -> int:
        action_id = conn.execute("SELECT tr_acknowledge_difference(%s, %s)", (args.difference_id, args.why)).fetchone()[0]
        venue, kind, subject = conn.execute("SELECT venue, kind, subject FROM tr_venue_differences WHERE id = %s",
                                            (args.difference_id,)).fetchone()
        print(f"{args.difference_id}: acknowledged {kind} {subject} at {venue} (action {action_id})")
        return 0

    return _run(args, work)


def _schedule_jobs(args: argparse.Namespace) -> int:
    def work(conn: psycopg.Connection) -> int:
        rows = conn.execute("SELECT job, schedule, scheduled FROM tr_schedule_jobs()").fetchall()
        for job, schedule, scheduled in rows:
            print(f"{job}  {schedule}  {'scheduled' if scheduled else 'NOT scheduled'}")
        if not all(scheduled for *_, scheduled in rows):
            print("trader: pg_cron is not loaded for this database (hint: set shared_preload_libraries = 'pg_cron' and "
                  "cron.database_name to this database, restart, then run trader jobs schedule again)", file=sys.stderr)
            return 1
        return 0

    return _run(args, work)


def _resolve_params(args: argparse.Namespace) -> tuple[Any, ...]:
    return (args.order_id, args.outcome, Jsonb(args.fills or []), args.why)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `orders` (dead-letters, retry, acknowledge, resolve, cancel), `venues` (differences, acknowledge)
    and `jobs` (schedule)."""
    orders = subparsers.add_parser("orders", help="operator actions on orders: dead letters, retry, acknowledge, resolve, cancel",
                                   description="Each action is checked and recorded (who, when, why) in tr_operator_actions. "
                                               "Run as a login granted tr_operator.")
    actions = orders.add_subparsers(dest="action", required=True)

    listing = actions.add_parser("dead-letters", help="orders that failed PROCESSING_ERROR or UNKNOWN_AT_VENUE, not acknowledged")
    listing.set_defaults(func=_dead_letters)

    def order_action(name: str, help_text: str) -> argparse.ArgumentParser:
        action = actions.add_parser(name, help=help_text)
        action.add_argument("order_id", metavar="ID", help="the order id (tr_inbox.id, the client order id)")
        action.add_argument("--why", required=True, help="why, for the audit trail (tr_operator_actions)")
        return action

    order_action("retry", "a dead letter never sent to a venue goes back to pending, attempts reset").set_defaults(
        func=_action("SELECT tr_retry_order(%s, %s)", lambda a: (a.order_id, a.why), "retried"))
    order_action("acknowledge", "a dead letter stays failed and leaves the list").set_defaults(
        func=_action("SELECT tr_acknowledge_order(%s, %s)", lambda a: (a.order_id, a.why), "acknowledged"))
    order_action("cancel", "ask the worker to cancel an order working at its venue").set_defaults(
        func=_action("SELECT tr_request_cancel(%s, %s)", lambda a: (a.order_id, a.why), "cancel requested"))

    resolve = order_action("resolve", "an UNKNOWN_AT_VENUE order becomes what the exchange says")
    outcome = resolve.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--filled", dest="outcome", action="store_const", const="filled", help="the exchange filled it (give its fills)")
    outcome.add_argument("--cancelled", dest="outcome", action="store_const", const="cancelled",
                         help="the exchange cancelled it (with its partial fills, if any)")
    outcome.add_argument("--never-placed", dest="outcome", action="store_const", const="never_placed",
                         help="the exchange never had it: failed NEVER_PLACED")
    resolve.add_argument("--fill", dest="fills", action="append", type=parse_fill, metavar="FILL_ID:PX:QTY[:FEE[:TS]]",
                         help="one of the exchange's fills (repeat for each); TS in ISO 8601, default now")
    resolve.set_defaults(func=_action("SELECT tr_resolve_order(%s, %s, %s, %s)", _resolve_params, "resolved"))

    venues = subparsers.add_parser("venues", help="differences between the exchanges and the Trader: list, acknowledge",
                                   description="Open orders the Trader did not place and balances that drifted from its fills, "
                                               "as the worker's reconciliation found them. Listing needs tr_inspector; "
                                               "acknowledging, tr_operator (recorded in tr_operator_actions).")
    venue_actions = venues.add_subparsers(dest="action", required=True)
    differences = venue_actions.add_parser("differences", help="open venue differences with both figures, newest first")
    differences.set_defaults(func=_venue_differences)
    acknowledge = venue_actions.add_parser("acknowledge", help="a balance drift stops blocking and becomes the accepted offset; "
                                                               "an unknown open order is marked seen")
    acknowledge.add_argument("difference_id", metavar="ID", help="the difference's id (trader venues differences)")
    acknowledge.add_argument("--why", required=True, help="why, for the audit trail (tr_operator_actions)")
    acknowledge.set_defaults(func=_acknowledge_difference)

    jobs = subparsers.add_parser("jobs", help="the pg_cron jobs")
    job_actions = jobs.add_subparsers(dest="action", required=True)
    schedule = job_actions.add_parser("schedule", help="schedule (or update) the Trader's pg_cron jobs in this database")
    schedule.set_defaults(func=_schedule_jobs)

    for parser in (listing, schedule, differences, acknowledge,
                   *(actions.choices[n] for n in ("retry", "acknowledge", "cancel", "resolve"))):
        parser.add_argument("--dsn", help=DSN_HELP)
