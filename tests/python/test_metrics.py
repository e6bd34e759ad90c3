"""The worker's Prometheus endpoint, scraped from a real `trader worker` process after
a few decisions, and the Grafana dashboard held to the worker's metric names."""

from __future__ import annotations

import json
import re
import socket
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from conftest import wait_for
from test_worker import all_done, decide, quote
from trader.metrics import WorkerMetrics

DASHBOARD = Path(__file__).resolve().parents[2] / "ops" / "grafana" / "trader-dashboard.json"
STAGES = {"reconcile", "check", "curate", "intent", "submit", "report"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the endpoint: (name, sorted labels) -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


def test_a_running_worker_serves_its_metrics(db, start_worker):
    quote(db, "MX-A", "10", "10.1")
    port = free_port()
    worker = start_worker("--metrics-port", str(port))
    worker.wait_connected()
    filled = decide(db, 3, "MX-A", {"side": "buy", "qty": "1"}, prefix="MXF")
    rejected = decide(db, 1, "MX-A", {"side": "buy", "qty": "1", "venue": "nowhere"}, prefix="MXR")
    wait_for(lambda: all_done(db, filled + rejected))
    samples = wait_for(lambda: (s := scrape(port)) and value(s, "trader_decision_to_report_seconds_count") == 4 and s)

    assert value(samples, "trader_orders_total", status="filled", reason="none", venue="paper_a") == 3
    assert total(samples, "trader_orders_total", status="rejected", reason="UNKNOWN_VENUE") == 1
    assert total(samples, "trader_orders_total") == 4, "one count per report"
    assert value(samples, "trader_batch_size_sum") == 4, "every order claimed once"
    assert value(samples, "trader_batch_size_count") >= 1
    stages = {dict(ls)["stage"] for (n, ls) in samples if n == "trader_batch_stage_seconds_count"}
    assert stages == STAGES
    assert value(samples, "trader_venue_request_seconds_count", venue="paper_a", operation="submit") >= 1
    assert total(samples, "trader_venue_errors_total") == 0
    assert value(samples, "trader_lease_lost_total") == 0
    assert ("trader_queue_pending", ()) in samples and ("trader_queue_oldest_pending_age_seconds", ()) in samples

    # The queue gauges follow the inbox: with no worker claiming, orders wait.
    assert worker.stop() == 0
    watcher = start_worker("--metrics-port", str(port), "--venues", "paper_b")
    waiting = decide(db, 2, "MX-A", {"side": "buy", "qty": "1", "venue": "paper_a"}, prefix="MXW")
    watcher.wait_connected()
    later = wait_for(lambda: (s := scrape(port)) and value(s, "trader_queue_pending") == 2 and s)
    assert later[("trader_queue_oldest_pending_age_seconds", ())] > 0
    assert watcher.stop() == 0
    assert not all_done(db, waiting)


def test_the_endpoint_is_off_unless_asked_for(db, start_worker):
    worker = start_worker()
    worker.wait_connected()
    assert not worker.events("metrics")
    assert worker.stop() == 0


def dashboard_series() -> set[str]:
    text = json.dumps(json.loads(DASHBOARD.read_text()))
    return set(re.findall(r"\btrader_[a-z0-9_]+", text))


def test_every_metric_the_dashboard_queries_exists_in_the_worker():
    used = dashboard_series()
    assert used, "the dashboard queries the worker's metrics"
    assert used <= WorkerMetrics().series_names(), used - WorkerMetrics().series_names()


def test_every_metric_of_the_worker_is_on_the_dashboard():
    used = dashboard_series()
    families = {family.name for family in WorkerMetrics().registry.collect()}
    assert {f for f in families if not any(series.startswith(f) for series in used)} == set()
