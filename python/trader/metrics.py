"""The worker's Prometheus metrics, on a registry of its own.

Every name here is what ops/grafana/trader-dashboard.json queries; a test holds the
two together. Counters and histograms are recorded whether or not they are served;
the queue gauges cost a query, so they are refreshed only while served, at most
once per poll interval.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import psycopg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

# Seconds, from a few milliseconds (a paper venue) to a minute (a decision that waited for a worker).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

# The pending queue from the claim index (tr_inbox_claimable), never from tr_pipeline,
# which counts every state of the whole inbox: too much to read every poll.
QUEUE_SQL = """
SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8
  FROM tr_inbox WHERE state = 'pending'
"""


# Open venue differences, and both figures of each balance drift, from the view the
# operators read: a handful of rows.
DIFFERENCES_SQL = """
SELECT venue, kind, acknowledged, subject, exchange_figure::float8, trader_figure::float8
  FROM tr_open_venue_differences
"""


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.orders = Counter("trader_orders", "Execution reports written, by order status and reason code",
                              ["status", "reason", "venue"], registry=r)
        self.decision_to_report = Histogram("trader_decision_to_report_seconds",
                                            "From the decision's arrival in tr_inbox to its execution report",
                                            buckets=LATENCY_BUCKETS, registry=r)
        self.stage = Histogram("trader_batch_stage_seconds", "Time a batch spent in each stage of the worker",
                               ["stage"], buckets=STAGE_BUCKETS, registry=r)
        self.batch_size = Histogram("trader_batch_size", "Orders per claimed batch", buckets=BATCH_BUCKETS, registry=r)
        self.venue_latency = Histogram("trader_venue_request_seconds", "Duration of calls to a venue",
                                       ["venue", "operation"], buckets=LATENCY_BUCKETS, registry=r)
        self.venue_errors = Counter("trader_venue_errors", "Calls to a venue that raised (unreachable, no answer, ...)",
                                    ["venue", "operation"], registry=r)
        self.lease_lost = Counter("trader_lease_lost", "Orders whose intent the database refused: the lease ended "
                                                       "before the intent was recorded (event intent_refused)", registry=r)
        self.reconnects = Counter("trader_connection_lost", "Transient database errors the worker retried after",
                                  registry=r)
        self.in_flight = Counter("trader_orders_in_flight", "Orders sent without an answer, looked up by the "
                                                            "follow-ups until they resolve (event in_flight)",
                                 ["venue"], registry=r)
        self.stream_connected = Gauge("trader_stream_connected", "1 while the venue's user stream is connected, else 0",
                                      ["venue"], registry=r)
        self.stream_fills = Counter("trader_stream_fills", "Fills the venue's user stream delivered",
                                    ["venue"], registry=r)
        self.venue_differences = Gauge("trader_venue_differences", "Open differences between an exchange and the "
                                                                   "Trader (unknown open orders, balance drifts)",
                                       ["venue", "kind", "acknowledged"], registry=r)
        self.venue_balance = Gauge("trader_venue_balance", "Both figures of an open balance drift: the exchange's "
                                                           "balance of the asset and the Trader's",
                                   ["venue", "asset", "source"], registry=r)
        self.queue_pending = Gauge("trader_queue_pending", "Orders pending in tr_inbox, not yet claimed", registry=r)
        self.queue_oldest_age = Gauge("trader_queue_oldest_pending_age_seconds",
                                      "Age of the oldest pending order in tr_inbox (0 when none)", registry=r)
        self._serving = False

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Starts the /metrics endpoint on a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)
        self._serving = True

    @property
    def serving(self) -> bool:
        return self._serving

    def order_reported(self, status: str | None, reason: str | None, venue: str | None, latency_s: float | None) -> None:
        self.orders.labels(status or "unknown", reason or "none", venue or "none").inc()
        if latency_s is not None:
            self.decision_to_report.observe(latency_s)

    def batch(self, size: int, stages_s: Mapping[str, float]) -> None:
        self.batch_size.observe(size)
        for stage, seconds in stages_s.items():
            self.stage.labels(stage).observe(seconds)

    @contextmanager
    def venue_call(self, venue: str, operation: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        except Exception:
            self.venue_errors.labels(venue, operation).inc()
            raise
        finally:
            self.venue_latency.labels(venue, operation).observe(time.perf_counter() - start)

    def refresh_queue(self, conn: psycopg.Connection) -> None:
        pending, oldest_age_s = conn.execute(QUEUE_SQL).fetchone()
        self.queue_pending.set(pending)
        self.queue_oldest_age.set(oldest_age_s)
        self.refresh_differences(conn)

    def refresh_differences(self, conn: psycopg.Connection) -> None:
        rows = conn.execute(DIFFERENCES_SQL).fetchall()
        # Label sets of differences since cleared must disappear, not stay at their last value.
        self.venue_differences.clear()
        self.venue_balance.clear()
        for venue, kind, acknowledged, subject, exchange_figure, trader_figure in rows:
            self.venue_differences.labels(venue, kind, str(acknowledged).lower()).inc()
            if kind == "balance_drift":
                self.venue_balance.labels(venue, subject, "exchange").set(exchange_figure)
                self.venue_balance.labels(venue, subject, "trader").set(trader_figure)

    def series_names(self) -> set[str]:
        """Every series name a query may use: counters end in _total, histograms in
        _bucket, _sum and _count."""
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
        return {family.name + suffix for family in self.registry.collect()
                for suffix in suffixes.get(family.type, ("",))}
