"""The `trader` command."""

from __future__ import annotations

import argparse
import sys

from trader import log


def _worker(args: argparse.Namespace) -> int:
    from trader.worker import Worker, WorkerConfig

    config = WorkerConfig(dsn=args.dsn, batch_size=args.batch_size, poll_interval=args.poll_interval,
                          venues=args.venues.split(",") if args.venues else None, listen=not args.no_listen,
                          curators=[c for c in (args.curators or "").split(",") if c.strip()])
    if args.worker_id:
        config.worker_id = args.worker_id
    return Worker(config).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trader", description="Trader Module sidecar.")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
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
    worker.set_defaults(func=_worker)

    args = parser.parse_args(argv)
    if getattr(args, "batch_size", 1) < 1:
        parser.error("--batch-size must be at least 1")
    if getattr(args, "poll_interval", 1) <= 0:
        parser.error("--poll-interval must be positive")
    log.setup(args.log_level)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
