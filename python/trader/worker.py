"""The worker loop: claim a batch, check it, curate it, commit the intent, submit,
report. It holds no state the database does not also hold, so it can be killed at
any moment and another worker picks up its work."""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import psycopg

from trader import store
from trader.curation import Curated, LessonEnhancedCuration
from trader.curators import builtin_curators, load_plugin
from trader.db import ConfigurationError, configuration_error, connect, error_message, is_transient
from trader.listener import Listener
from trader.log import event
from trader.metrics import WorkerMetrics
from trader.store import WorkItem
from trader.venues import IN_FLIGHT, StreamFill, Venue, VenueAnswer, VenueOrder, VenueUnavailable, open_venues

log = logging.getLogger("trader.worker")

MAX_BACKOFF = 5.0
# The newest function the worker calls: a database without it has the module
# missing, or older than this worker.
REQUIRED_FUNCTION = "tr_reconcile_venue(text,jsonb,jsonb,timestamptz)"


@dataclass
class WorkerConfig:
    dsn: str | None = None
    batch_size: int = 50
    poll_interval: float = 0.5
    worker_id: str = f"{socket.gethostname()}:{os.getpid()}"
    venues: list[str] | None = None
    listen: bool = True
    curators: list[str] | None = None  # plug-ins, beside the curation.plugins setting
    metrics_port: int = 0  # 0: no /metrics endpoint
    metrics_host: str = "127.0.0.1"


def _test_pause(point: str) -> None:
    """A test hook: TRADER_TEST_PAUSE_AT=intent|submit makes the worker stop there for
    TRADER_TEST_PAUSE_SECONDS, so a test can kill it at that exact point."""
    if os.environ.get("TRADER_TEST_PAUSE_AT") == point:
        time.sleep(float(os.environ.get("TRADER_TEST_PAUSE_SECONDS", "30")))


def _report_body(answer: VenueAnswer, venue: str, curated: Curated | dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": answer.status, "venue": venue, "venue_order_id": answer.venue_order_id,
                            "fills": answer.fills, "submitted_at": answer.submitted_at}
    if answer.reason:
        body["reason"] = answer.reason
    if answer.detail:
        body["detail"] = answer.detail
    cur = curated.as_json() if isinstance(curated, Curated) else (curated or {})
    if answer.order_qty is not None:
        body["order_qty"] = str(answer.order_qty)
    elif cur.get("order_qty") is not None:
        body["order_qty"] = cur["order_qty"]
    for key in ("tr_predict", "lesson_metadata"):
        if cur.get(key) is not None:
            body[key] = cur[key]
    return body


class _Stages:
    """Seconds spent in each stage of a batch, for the debug log and the metrics."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._mark = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = now - self._mark
        self._mark = now

    @property
    def ms(self) -> dict[str, float]:
        return {stage: round(s * 1000, 2) for stage, s in self.seconds.items()}


class Backoff:
    """Exponential backoff with jitter: the ceiling doubles up to MAX_BACKOFF, and the
    wait is drawn from its upper half, so that workers which lost the same server do
    not all come back at the same instant, nor hammer it while it starts."""

    def __init__(self, base: float = 0.2, cap: float = MAX_BACKOFF) -> None:
        self.base = base
        self.cap = cap
        self._attempt = 0

    def reset(self) -> None:
        self._attempt = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** self._attempt)
        self._attempt += 1
        return round(random.uniform(ceiling / 2, ceiling), 3)


class Worker:
    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.stopping = False
        self._conn: psycopg.Connection | None = None
        self._listener = Listener(self._connect, enabled=config.listen)
        self._venues: dict[str, Venue] = {}
        self._curation: LessonEnhancedCuration | None = None
        self._next_follow = 0.0
        self._submit_lease_s = 60.0
        self._next_poll: dict[str, float] = {}  # venue -> when its working orders are next asked about
        self._next_queue_refresh = 0.0
        self._ask_now: set[str] = set()  # order ids or exchange order ids to ask about at the next follow-up
        self._held: dict[str, list[tuple[float, StreamFill]]] = {}  # venue -> stream fills waiting for their order
        self._next_reconcile = 0.0  # at start, then every reconcile.interval
        self._reconcile_interval_s = 300.0
        self.metrics = WorkerMetrics()

    # connections -------------------------------------------------------------------

    def _connect(self, autocommit: bool = True) -> psycopg.Connection:
        # The worker's statements are small and many: JIT compilation would cost more than it saves.
        return connect(self.config.dsn, autocommit=autocommit, application_name=f"trader-worker {self.config.worker_id}",
                       options="-c jit=off")

    def _ensure_connected(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect()
            self._check_module(self._conn)
            self._listener.open()
            if not self._venues:
                self._venues = open_venues(self._conn, self.config.venues, self._connect)
                if not self._venues:
                    raise ConfigurationError("no venue", "no enabled venue in tr_venues",
                                             "enable one: UPDATE tr_venues SET enabled WHERE name = '...'")
            if self._curation is None:
                self._curation = self._build_curation(self._conn)
            self._submit_lease_s, self._reconcile_interval_s = self._conn.execute(
                "SELECT extract(epoch FROM tr_setting('inbox.submit_lease')::interval)::float8, "
                "extract(epoch FROM tr_setting('reconcile.interval')::interval)::float8").fetchone()
            event(log, "connected", worker_id=self.config.worker_id, venues=sorted(self._venues))
        return self._conn

    @staticmethod
    def _check_module(conn: psycopg.Connection) -> None:
        database, present, allowed = conn.execute(
            "SELECT current_database(), to_regprocedure(%(f)s) IS NOT NULL, "
            "to_regprocedure(%(f)s) IS NOT NULL AND has_function_privilege(to_regprocedure(%(f)s), 'EXECUTE')",
            {"f": REQUIRED_FUNCTION}).fetchone()
        if not present:
            raise ConfigurationError(
                "the Trader module is not deployed", f"database {database} has no {REQUIRED_FUNCTION}: the module "
                "is missing or older than this worker", f"deploy it: sqitch deploy --verify db:pg://<user>@<host>/{database}")
        if not allowed:
            raise ConfigurationError("the database role lacks a privilege", f"{conn.info.user} may not execute "
                                     f"{REQUIRED_FUNCTION}", "connect as tr_worker, or a role granted tr_worker")

    def _build_curation(self, conn: psycopg.Connection) -> LessonEnhancedCuration:
        specs = [p for p in store.setting(conn, "curation.plugins").split(",") if p.strip()]
        specs += self.config.curators or []
        curators = builtin_curators() + [self._plugin(spec) for spec in specs]
        for curator in curators:
            store.register_curator(conn, curator.name)
        event(log, "curators", names=[c.name for c in curators])
        return LessonEnhancedCuration(curators, self._venues, store.setting(conn, "worker.default_venue"),
                                      threshold=float(store.setting(conn, "curation.threshold")),
                                      timeout_s=float(store.setting(conn, "curation.timeout_ms")) / 1000)

    @staticmethod
    def _plugin(spec: str) -> Any:
        try:
            return load_plugin(spec)
        except Exception as exc:  # whatever the plug-in's import or factory raised
            raise ConfigurationError("curator plug-in cannot be loaded", f"{spec.strip()}: {type(exc).__name__}: {exc}",
                                     "check --curators and the curation.plugins setting (package.module:factory, "
                                     "importable by the worker's Python)") from exc

    def _close(self) -> None:
        for closer in [self._listener.close, *(v.close for v in self._venues.values())]:
            try:
                closer()
            except Exception:  # closing after a failure must not fail again
                pass
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # the loop ----------------------------------------------------------------------

    def stop(self, *_: Any) -> None:
        if not self.stopping:
            event(log, "stopping", worker_id=self.config.worker_id)
        self.stopping = True

    def run(self) -> int:
        """Works until SIGTERM or SIGINT (exit 0). Transient errors are retried; a
        ConfigurationError is raised, for the command to report and exit 2."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self._serve_metrics()
        backoff = Backoff()
        try:
            while not self.stopping:
                try:
                    self._ensure_connected()
                    worked = self.tick()
                    backoff.reset()
                    if not worked and not self.stopping:
                        self._listener.wait(self.config.poll_interval, lambda: self.stopping)
                except Exception as exc:
                    self._failed(exc, backoff.next())
        finally:
            self._close()
            if self._curation is not None:
                self._curation.close()
        event(log, "stopped", worker_id=self.config.worker_id)
        return 0

    def _serve_metrics(self) -> None:
        if not self.config.metrics_port:
            return
        try:
            self.metrics.serve(self.config.metrics_port, self.config.metrics_host)
        except OSError as exc:
            raise ConfigurationError("cannot serve metrics", f"{self.config.metrics_host}:{self.config.metrics_port}: "
                                     f"{exc.strerror or exc}", "choose another --metrics-port or --metrics-host") from exc
        event(log, "metrics", host=self.config.metrics_host, port=self.config.metrics_port)

    def _failed(self, exc: Exception, retry_in_s: float) -> None:
        """A round failed: raise what no retry can fix, else log it, drop the
        connections and wait before the next round."""
        if isinstance(exc, ConfigurationError):
            raise exc
        if isinstance(exc, psycopg.Error):
            config = configuration_error(exc)
            if config is not None:
                raise config from exc
        if isinstance(exc, psycopg.Error) and is_transient(exc):
            self.metrics.reconnects.inc()
            event(log, "connection_lost", logging.WARNING, error=error_message(exc), sqlstate=exc.sqlstate,
                  retry_in_s=retry_in_s)
        elif isinstance(exc, VenueUnavailable):
            event(log, "venue_unavailable", logging.WARNING, error=str(exc), retry_in_s=retry_in_s)
        else:
            # Whatever this batch held was handed back, or stays claimed and returns
            # within a lease, to be reconciled; the worker itself goes on.
            log.error("batch_failed", exc_info=exc, extra={"fields": {
                "error": f"{type(exc).__name__}: {' '.join(str(exc).split())}", "worker_id": self.config.worker_id,
                "retry_in_s": retry_in_s}})
        self._close()
        self._sleep(retry_in_s)

    def _sleep(self, seconds: float) -> None:
        # In slices, so that SIGTERM during a backoff is honoured at once.
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    def tick(self) -> bool:
        """One round: a batch claimed and handled, and working orders followed every
        poll interval. True when a batch was claimed (there may be more)."""
        conn = self._ensure_connected()
        items = store.claim_batch(conn, self.config.worker_id, self.config.batch_size, self.config.venues)
        if items:
            try:
                self.handle(items)
            except Exception as exc:
                self._release(items, exc)
                raise
        now = time.monotonic()
        if now >= self._next_follow:
            self.follow_streams()
            self.follow_working_orders()
            self._next_follow = now + self.config.poll_interval
        if now >= self._next_reconcile:
            self.reconcile_venues()
            self._next_reconcile = now + self._reconcile_interval_s
        if self.metrics.serving and now >= self._next_queue_refresh:
            self.metrics.refresh_queue(conn)
            self._next_queue_refresh = now + self.config.poll_interval
        return bool(items)

    # a batch -----------------------------------------------------------------------

    def handle(self, items: list[WorkItem]) -> None:
        """Claimed orders to reports: reconcile those that may be at a venue, reject
        what failed its check, curate the rest, commit the intent, send, report."""
        conn = self._ensure_connected()
        stages = _Stages()
        reports: list[tuple[str, dict[str, Any]]] = []
        fresh = self._reconcile_sent(items, reports)
        stages.lap("reconcile")
        passed = self._checked(fresh, reports)
        stages.lap("check")
        approved = self._curated(passed, reports)
        stages.lap("curate")
        to_send = self._record_intents(approved)
        stages.lap("intent")
        _test_pause("intent")
        self._send(to_send, reports)
        stages.lap("submit")
        _test_pause("submit")
        done = store.report(conn, reports)
        stages.lap("report")
        self._reported(items, reports, done)
        self.metrics.batch(len(items), stages.seconds)
        event(log, "batch", logging.DEBUG, orders=len(items), stages_ms=stages.ms)

    def _reconcile_sent(self, items: list[WorkItem], reports: list[tuple[str, dict[str, Any]]]) -> list[WorkItem]:
        """Orders whose intent was committed are asked about at their venue first; the
        ones it has never seen join the fresh orders (they come without a check, which
        the database now makes for them)."""
        fresh = [item for item in items if item.submit_intent_at is None]
        unseen: list[WorkItem] = []
        for item in items:
            if item.submit_intent_at is not None:
                reconciled = self._reconcile(item)
                if reconciled is None:
                    unseen.append(item)
                else:
                    reports.append(reconciled)
        if unseen:
            conn = self._ensure_connected()
            checks = store.pre_trade_check(conn, [i.id for i in unseen])
            contexts = store.curation_context(conn, [i.id for i in unseen if checks[i.id][0] == "OK"])
            for item in unseen:
                item.check_reason, item.check_detail = checks[item.id]
                item.context = contexts.get(item.id)
        return fresh + unseen

    @staticmethod
    def _checked(items: list[WorkItem], reports: list[tuple[str, dict[str, Any]]]) -> list[WorkItem]:
        passed = []
        for item in items:
            if item.check_reason == "OK":
                passed.append(item)
            else:
                reports.append((item.id, {"status": "rejected", "reason": item.check_reason or "UNKNOWN_ORDER",
                                          "detail": item.check_detail, "venue": item.requested_venue}))
        return passed

    def _curated(self, items: list[WorkItem],
                 reports: list[tuple[str, dict[str, Any]]]) -> list[tuple[WorkItem, Curated]]:
        assert self._curation is not None
        decisions = self._curation.curate({i.id: i.context for i in items if i.context is not None})
        approved: list[tuple[WorkItem, Curated]] = []
        for item in items:
            curated = decisions[item.id]
            if curated.approved:
                approved.append((item, curated))
            else:
                reports.append((item.id, {"status": "rejected", "reason": curated.reason or "CURATOR_REJECTED",
                                          "detail": curated.detail, "lesson_metadata": curated.lesson_metadata,
                                          "tr_predict": curated.tr_predict}))
        return approved

    def _record_intents(self, approved: list[tuple[WorkItem, Curated]]) -> dict[str, list[tuple[WorkItem, Curated]]]:
        """Commits the intent to send; only the orders the database recorded may be
        sent, grouped by venue."""
        recorded = store.record_intents(self._ensure_connected(), self.config.worker_id, [
            {"order_id": item.id, "venue": curated.venue, "curation": curated.as_json()} for item, curated in approved])
        by_venue: dict[str, list[tuple[WorkItem, Curated]]] = {}
        for item, curated in approved:
            if item.id in recorded:
                by_venue.setdefault(curated.venue or "", []).append((item, curated))
            else:
                # The lease ended, or the order ran out of attempts and the database failed it.
                self.metrics.lease_lost.inc()
                event(log, "intent_refused", logging.WARNING, order_id=item.id)
        return by_venue

    def _send(self, by_venue: dict[str, list[tuple[WorkItem, Curated]]],
              reports: list[tuple[str, dict[str, Any]]]) -> None:
        # Orders must be sent while the intent's lease holds; what is not sent by then is
        # left to the next claim, which finds the venue never saw it.
        deadline = time.monotonic() + 0.8 * self._submit_lease_s
        for venue_name, batch in by_venue.items():
            venue = self._venues[venue_name]
            if time.monotonic() >= deadline:
                event(log, "not_sent_before_lease", logging.WARNING, venue=venue_name, orders=len(batch))
                continue
            orders = [VenueOrder(client_order_id=item.id, symbol=item.symbol or "", side=item.side or "",
                                 qty=curated.order_qty or item.qty or Decimal(0), order_type=item.order_type or "market",
                                 limit_px=item.limit_px, tif=item.tif) for item, curated in batch]
            with self.metrics.venue_call(venue_name, "submit"):
                answers = venue.submit(orders, deadline=deadline)
            in_flight: list[tuple[str, str]] = []
            # None, or no answer at the end: not sent, left for the next claim.
            for (item, curated), answer in zip(batch, answers, strict=False):
                if answer is not None and answer.status == IN_FLIGHT:
                    in_flight.append((item.id, answer.detail or "sent without an answer"))
                elif answer is not None:
                    reports.append((item.id, _report_body(answer, venue_name, curated)))
            self._mark_in_flight(venue_name, in_flight)

    def _mark_in_flight(self, venue: str, orders: list[tuple[str, str]]) -> None:
        """Committed at once: from now on the order is the follow-ups' to look up, and a
        claim never takes it back to send again."""
        for order_id in store.mark_in_flight(self._ensure_connected(), self.config.worker_id, orders):
            self.metrics.in_flight.labels(venue=venue).inc()
            event(log, "in_flight", logging.WARNING, order_id=order_id, venue=venue,
                  error=dict(orders).get(order_id))

    def _release(self, items: list[WorkItem], exc: Exception) -> None:
        """Hands a failed batch back with its error, so that the next claim counts an
        attempt; without a connection its lease returns it all the same."""
        error = f"{type(exc).__name__}: {exc}"
        try:
            if self._conn is not None and not (self._conn.closed or self._conn.broken):
                store.release(self._conn, self.config.worker_id, [i.id for i in items], error)
            else:
                with self._connect() as conn:
                    store.release(conn, self.config.worker_id, [i.id for i in items], error)
        except psycopg.Error as again:
            event(log, "release_failed", logging.WARNING, orders=len(items), error=str(again).strip())

    def _reconcile(self, item: WorkItem) -> tuple[str, dict[str, Any]] | None:
        """An order whose intent was committed by a worker that then lost it: ask the
        venue by client order id before anything is sent. None means the venue has
        never seen it, so it may be sent now (the venue would refuse a duplicate id)."""
        venue = self._venues.get(item.venue or "")
        if venue is None:
            return item.id, {"status": "failed", "venue": item.venue, "reason": "UNKNOWN_AT_VENUE",
                             "detail": f"venue {item.venue!r} is not served by this worker; the order is not resent"}
        if not venue.can_lookup:
            return item.id, {"status": "failed", "venue": item.venue, "reason": "UNKNOWN_AT_VENUE",
                             "detail": "the venue cannot look orders up by client order id; the order is not resent"}
        with self.metrics.venue_call(venue.name, "query"):
            answer = venue.query(item.id, item.symbol)
        event(log, "reconciled", order_id=item.id, venue=item.venue, found=answer is not None,
              status=None if answer is None else answer.status)
        if answer is None:
            return None
        return item.id, _report_body(answer, venue.name, item.curation)

    # orders resting at venues ------------------------------------------------------

    def follow_streams(self) -> None:
        """Fills the venues' user streams delivered, reported on their orders (the
        database matches them and decides the status). A fill whose order the venue has
        not answered for yet is held and offered again until the submit lease would
        have ended; past that the polls, which never stop, bring it."""
        conn = self._ensure_connected()
        now = time.monotonic()
        for name, venue in self._venues.items():
            news = venue.drain_stream()
            self._ask_now |= news.ended
            if news.resync:
                self._next_poll[name] = 0.0
                event(log, "stream_resync", venue=name)
            if news.connected is not None:
                self.metrics.stream_connected.labels(venue=name).set(int(news.connected))
            self.metrics.stream_fills.labels(venue=name).inc(len(news.fills))
            waiting = [(until, f) for until, f in self._held.get(name, []) if until > now]
            waiting += [(now + self._submit_lease_s, f) for f in news.fills]
            if not waiting:
                self._held.pop(name, None)
                continue
            reported, unmatched = store.report_stream_fills(conn, name, [f.as_json() for _, f in waiting])
            self._held[name] = [waiting[n] for n in unmatched]
            for order_id in reported:
                event(log, "stream_fill", order_id=order_id, venue=name)

    def reconcile_venues(self) -> None:
        """The exchanges' open orders and balances compared with the Trader's state, at
        start and every reconcile.interval: the database records what differs, for an
        operator, and names the orders to ask about now."""
        conn = self._ensure_connected()
        for name, venue in self._venues.items():
            try:
                with self.metrics.venue_call(name, "reconcile"):
                    state = venue.exchange_state(store.traded_symbols(conn, name))
            except psycopg.Error:
                raise
            except Exception as exc:
                # A check beside the trading: whatever it met waits for the next
                # interval rather than stopping the orders' flow.
                event(log, "reconcile_failed", logging.WARNING, venue=name, error=f"{type(exc).__name__}: {exc}"[:500])
                continue
            if state is None:
                continue
            found = store.reconcile_venue(conn, name, state.open_orders, state.balances)
            self._ask_now |= set(found.get("follow_up") or [])
            level = logging.WARNING if found.get("unknown_open_orders") or found.get("balance_drifts") else logging.INFO
            event(log, "reconciled_venue", level, venue=name, **{k: v for k, v in found.items() if k != "follow_up"},
                  follow_up=len(found.get("follow_up") or []))

    def follow_working_orders(self) -> None:
        """Orders resting at venues asked about every poll interval of their venue (and
        at once when a stream or a reconciliation says so); orders to cancel cancelled;
        orders in flight looked up until they resolve."""
        conn = self._ensure_connected()
        reports: list[tuple[str, dict[str, Any]]] = []
        not_found: list[tuple[str, str | None]] = []
        to_cancel = dict(store.orders_to_cancel(conn))
        now = time.monotonic()
        due = {name for name, venue in self._venues.items() if now >= self._next_poll.get(name, 0.0)}
        for name in due:
            self._next_poll[name] = now + self._venues[name].poll_interval_s
        asked_now, self._ask_now = self._ask_now, set()
        for order in store.working_orders(conn, self._venues):
            if order.order_id in to_cancel:
                answer = self._cancel_at_venue(order, to_cancel[order.order_id])
            elif order.venue in due or asked_now & {order.order_id, order.venue_order_id}:
                answer = self._ask_venue(order, not_found)
            else:
                continue
            if answer is not None and (answer.status != order.status or len(answer.fills) != (order.fill_count or 0)):
                reports.append((order.order_id, _report_body(answer, order.venue, order.curation)))
        if reports:
            done = store.report(conn, reports)
            self._reported([], reports, done)
        for order_id in store.in_flight_checked(conn, not_found):
            event(log, "in_flight_failed", logging.WARNING, order_id=order_id, error=dict(not_found).get(order_id))

    def _cancel_at_venue(self, order: store.WorkingOrder, reason: str) -> VenueAnswer | None:
        try:
            with self.metrics.venue_call(order.venue, "cancel"):
                answer = self._venues[order.venue].cancel(order.order_id, order.symbol, order.venue_order_id)
        except VenueUnavailable as exc:
            event(log, "follow_up_failed", logging.WARNING, order_id=order.order_id, venue=order.venue, error=str(exc))
            return None
        if answer is not None and answer.status == "cancelled":
            # The reason (a halt, an operator's request) says why; the database decided it.
            answer.reason = reason
            answer.detail = f"cancelled at the venue by the Trader ({reason})"
        return answer

    def _ask_venue(self, order: store.WorkingOrder, not_found: list[tuple[str, str | None]]) -> VenueAnswer | None:
        """The venue's answer for a working order; for an order in flight, a lookup that
        does not find it is noted for the database, which fails it past its timeout."""
        in_flight = order.status == "received"
        try:
            with self.metrics.venue_call(order.venue, "query"):
                answer = self._venues[order.venue].query(order.order_id, order.symbol, order.venue_order_id)
        except VenueUnavailable as exc:
            event(log, "follow_up_failed", logging.WARNING, order_id=order.order_id, venue=order.venue, error=str(exc))
            if in_flight:
                not_found.append((order.order_id, str(exc)))
            return None
        if answer is None and in_flight:
            not_found.append((order.order_id, None))
        return answer

    def _reported(self, items: list[WorkItem], reports: list[tuple[str, dict[str, Any]]], done: dict[str, str]) -> None:
        """Each report written: logged, and counted."""
        now = datetime.now(timezone.utc)
        latencies = {i.id: (now - i.created_at).total_seconds() for i in items}
        for order_id, body in reports:
            latency_s = latencies.get(order_id)
            self._log_report(order_id, body, done.get(order_id), latency_s)
            self.metrics.order_reported(body.get("status"), body.get("reason"), body.get("venue"), latency_s)

    @staticmethod
    def _log_report(order_id: str, body: dict[str, Any], execution_id: str | None, latency_s: float | None) -> None:
        fields: dict[str, Any] = {"order_id": order_id, "status": body.get("status"), "venue": body.get("venue"),
                                  "execution_id": execution_id}
        if latency_s is not None:
            fields["latency_ms"] = round(latency_s * 1000, 1)
        if body.get("reason"):
            fields["reason"] = body["reason"]
        event(log, "order", **fields)
