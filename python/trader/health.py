"""`trader health`: one verdict for probes and supervisors, with what to do.

The verdict of each check is the database's (tr_health, change ops/health); this
module adds only what the database cannot say about itself: whether it can be
reached, and whether the module is deployed at all. The exit status is the worst
verdict: 0 healthy, 1 degraded, 2 down. Nothing here raises past the command: an
unreachable database is one line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass

import psycopg

from trader.db import connect
from trader.status import table

EXIT_CODES = {"ok": 0, "degraded": 1, "down": 2}
DSN_HELP = "libpq connection string or URI (default: DATABASE_URL, else the PG* variables)"
# The newest function the worker calls: without it the worker cannot claim.
WORKER_ENTRY = "tr_claim_batch(text,integer,text[])"


@dataclass(frozen=True)
class Check:
    check: str
    status: str
    value: str
    detail: str


def _deployment(conn: psycopg.Connection) -> Check | None:
    """A `module` check that is down when the module, or its health change, is missing."""
    has_entry, has_health = conn.execute(
        "SELECT to_regprocedure(%s) IS NOT NULL, to_regprocedure('tr_health(timestamptz)') IS NOT NULL",
        (WORKER_ENTRY,)).fetchone()
    if not has_entry:
        return Check("module", "down", "missing",
                     f"the Trader module is not deployed here ({WORKER_ENTRY} is missing): sqitch deploy --verify")
    if not has_health:
        return Check("module", "down", "older",
                     "the module is deployed without ops/health, older than this trader: sqitch deploy --verify")
    return None


def collect(conn: psycopg.Connection) -> list[Check]:
    checks = [Check("database", "ok", conn.info.dbname, f"reachable (PostgreSQL {conn.info.parameter_status('server_version')})")]
    missing = _deployment(conn)
    if missing is not None:
        return checks + [missing]
    rows = conn.execute("SELECT check_name, status, value, detail FROM tr_health()").fetchall()
    return checks + [Check(*row) for row in rows]


def verdict(checks: list[Check]) -> str:
    return max((c.status for c in checks), key=lambda s: EXIT_CODES[s], default="down")


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return " ".join((lines[0] if lines else type(exc).__name__).split())


def unreachable(exc: BaseException) -> list[Check]:
    return [Check("database", "down", "unreachable", f"{_one_line(exc)}: start the database or fix --dsn")]


def check(dsn: str | None, timeout: float) -> list[Check]:
    try:
        with connect(dsn, autocommit=True, connect_timeout=max(1, round(timeout)),
                     application_name="trader-health") as conn:
            return collect(conn)
    except psycopg.Error as exc:
        return unreachable(exc)


def as_json(checks: list[Check]) -> str:
    return json.dumps({"status": verdict(checks), "checks": [asdict(c) for c in checks]})


def as_text(checks: list[Check]) -> str:
    if len(checks) == 1 and checks[0].status == "down":
        c = checks[0]
        return f"trader health: down: {c.check} {c.value}: {c.detail}"
    lines = [f"trader health: {verdict(checks)}"]
    lines += table([asdict(c) for c in checks], ["check", "status", "value", "detail"])
    return "\n".join(lines)


def _health(args: argparse.Namespace) -> int:
    checks = check(args.dsn, args.timeout)
    print(as_json(checks) if args.json else as_text(checks))
    sys.stdout.flush()
    return EXIT_CODES[verdict(checks)]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds `trader health` to the CLI's subcommands."""
    parser = subparsers.add_parser(
        "health", help="one verdict for probes: exit 0 healthy, 1 degraded, 2 down",
        description="Checks the database, the module's deployment, workers, pending orders, expired leases, "
                    "dead letters, orders awaiting an operator and the pg_cron jobs; each check's verdict is "
                    "tr_health()'s. Exit status: 0 healthy, 1 degraded, 2 down.")
    parser.add_argument("--dsn", help=DSN_HELP)
    parser.add_argument("--json", action="store_true", help="one JSON object: {status, checks: [...]}")
    parser.add_argument("--timeout", type=float, default=5, help="seconds to wait for the connection (default 5)")
    parser.set_defaults(func=_health)
