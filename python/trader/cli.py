"""The `trader` command."""

from __future__ import annotations

import argparse
import logging
import sys

import psycopg

from trader import log
from trader.db import ConfigurationError, configuration_error, error_message

# Exit codes: what no retry can fix (configuration), and anything else that stopped
# the command (the database refused the action, the server is unreachable).
EXIT_FAILED = 1
EXIT_CONFIGURATION = 2


def _worker(args: argparse.Namespace) -> int:
    from trader.worker import Worker, WorkerConfig

    config = WorkerConfig(dsn=args.dsn, batch_size=args.batch_size, poll_interval=args.poll_interval,
                          venues=args.venues.split(",") if args.venues else None, listen=not args.no_listen,
                          curators=[c for c in (args.curators or "").split(",") if c.strip()],
                          metrics_port=args.metrics_port, metrics_host=args.metrics_host)
    if args.worker_id:
        config.worker_id = args.worker_id
    return Worker(config).run()


def _status(args: argparse.Namespace) -> int:
    from trader import status
    from trader.db import connect

    with connect(args.dsn, autocommit=True) as conn:
        report = status.collect(conn)
    print(status.as_json(report) if args.json else status.as_text(report))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from trader import demo

    return demo.main(args.dsn, args.duration, args.rate, args.symbols)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("trader-module")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _failure(exc: BaseException) -> tuple[str, int]:
    """The one line and the exit code for an error that ended a command."""
    if isinstance(exc, ConfigurationError):
        return exc.one_line(), EXIT_CONFIGURATION
    if isinstance(exc, psycopg.Error):
        config = configuration_error(exc)
        if config is not None:
            return config.one_line(), EXIT_CONFIGURATION
        line = f"database error: {error_message(exc)}"
        if exc.sqlstate:
            line += f" (SQLSTATE {exc.sqlstate})"
        if exc.pgresult is not None and exc.diag.message_hint:
            line += f" hint: {exc.diag.message_hint}"
        return " ".join(line.split()), EXIT_FAILED
    return f"unexpected error: {type(exc).__name__}: {' '.join(str(exc).split())}", EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    """Runs the command; any error ends it with one line on stderr and a non-zero exit,
    never a traceback (unless --log-level debug asks for one)."""
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        line, code = _failure(exc)
        logging.getLogger("trader").debug("command_failed", exc_info=exc)
        print(f"trader: {line}", file=sys.stderr, flush=True)
        return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trader", description="Trader Module sidecar.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--log-format", choices=["json", "text"],
                        help="json lines (the worker's default) or text for terminals (the other commands' default)")
    sub = parser.add_subparsers(dest="command", required=True)

    worker = sub.add_parser("worker", help="claim orders, check, curate, submit to venues, report",
                            description="Runs the worker beside the database. Connection: --dsn, else DATABASE_URL, "
                                        "else the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE).")
    worker.add_argument("--dsn", help="libpq connection string or URI")
    worker.add_argument("--batch-size", type=int, default=50, help="orders claimed per batch (default 50)")
    worker.add_argument("--poll-interval", type=float, default=0.5,
                        help="seconds between polls when no notification arrives (default 0.5)")
    worker.add_argument("--worker-id", help="stable name of this worker (default host:pid)")
    worker.add_argument("--venues", help="comma-separated venues this worker serves (default: every enabled venue)")
    worker.add_argument("--no-listen", action="store_true", help="poll only, without LISTEN")
    worker.add_argument("--curators", help="comma-separated plug-in curators (package.module:factory), "
                                           "beside the curation.plugins setting")
    worker.add_argument("--metrics-port", type=int, default=0,
                        help="serve Prometheus metrics on this port at /metrics (default 0: off)")
    worker.add_argument("--metrics-host", default="127.0.0.1", help="address the metrics endpoint binds (default 127.0.0.1)")
    worker.add_argument("--log-format", choices=["json", "text"], default=argparse.SUPPRESS,
                        help="json lines (default) or text for terminals")
    worker.set_defaults(func=_worker)

    status = sub.add_parser("status", help="pipeline, positions and PnL, execution quality, input not applied")
    status.add_argument("--dsn", help="libpq connection string or URI")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=_status)

    demo = sub.add_parser("demo", help="simulated market data and decisions through the real tables, with a live view",
                          description="Needs a worker running against the same database (make demo starts one).")
    demo.add_argument("--dsn", help="libpq connection string or URI")
    demo.add_argument("--duration", type=float, default=20, help="seconds of decisions (default 20)")
    demo.add_argument("--rate", type=float, default=20, help="decisions per second (default 20)")
    demo.add_argument("--symbols", type=int, default=3, help="how many symbols (default 3)")
    demo.set_defaults(func=_demo)

    # Commands defined in their own modules: each adds its subparser with register(sub).
    from trader import health, operator, tca
    operator.register(sub)
    tca.register(sub)
    health.register(sub)

    args = parser.parse_args(argv)
    if getattr(args, "batch_size", 1) < 1:
        parser.error("--batch-size must be at least 1")
    if getattr(args, "poll_interval", 1) <= 0:
        parser.error("--poll-interval must be positive")
    if getattr(args, "rate", 1) <= 0 or getattr(args, "duration", 1) <= 0 or getattr(args, "symbols", 1) < 1:
        parser.error("--rate and --duration must be positive, --symbols at least 1")
    if not 0 <= getattr(args, "metrics_port", 0) <= 65535:
        parser.error("--metrics-port must be between 0 and 65535")
    log.setup(args.log_level, args.log_format or ("json" if args.command == "worker" else "text"))
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
