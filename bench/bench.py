"""make bench: the pipeline's throughput and latency, side by side with what the
database itself can do on the same machine.

Runs against the cluster in the libpq environment (bench/run.sh makes a durable one):
  reference   pgbench, one client: a single-row INSERT into a dm_strand-shaped table
              plus its NOTIFY, one transaction each;
  pipeline    one Decision Maker connection inserting decisions as fast as it can and
              one `trader worker` (paper venue, curation on): decisions per second
              from the first insert to the last report notification at the Decision
              Maker;
  latency     decisions offered at a fixed rate; per decision, insert commit to the
              report's notification arriving at the Decision Maker: p50 and p99.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "python"))
from trader.db import connect  # noqa: E402

SYMBOL = "BENCH-A"
SPEC = {"side": "buy", "qty": "0.01", "order_type": "market", "tif": "ioc"}

REFERENCE_SETUP = """
DROP TABLE IF EXISTS bench_reference_strand;
CREATE TABLE bench_reference_strand (LIKE dm_strand INCLUDING DEFAULTS INCLUDING INDEXES);
"""
REFERENCE_SCRIPT = """WITH r AS (INSERT INTO bench_reference_strand (id, symbol, order_spec, tags)
  VALUES (md5(random()::text), 'BENCH-A', '{"side": "buy", "qty": "0.01"}', ARRAY['trader:execute']) RETURNING id, tags)
SELECT pg_notify('bench_reference', json_build_object('strand_id', id, 'tags', tags)::text) FROM r;
"""


@dataclass
class Arrivals:
    """Report notifications at the Decision Maker: strand id -> first arrival time."""
    times: dict[str, float] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def listen(self, dsn: str | None) -> threading.Thread:
        ready = threading.Event()

        def run() -> None:
            with connect(dsn, autocommit=True) as conn:
                conn.execute("LISTEN decision_maker_strand_notification")
                ready.set()
                while not self.stop.is_set():
                    for note in conn.notifies(timeout=0.2):
                        now = time.perf_counter()
                        payload = json.loads(note.payload)
                        if payload.get("kind") == "execution":
                            self.times.setdefault(payload["strand_id"], now)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        ready.wait(10)
        return thread


def reference(seconds: float) -> float:
    """Transactions per second of INSERT + NOTIFY, one pgbench client."""
    with connect(autocommit=True) as conn:
        conn.execute(REFERENCE_SETUP)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(REFERENCE_SCRIPT)
    try:
        out = subprocess.run(["pgbench", "-n", "-c", "1", "-T", str(max(1, int(seconds))), "-f", script.name],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    return float(re.search(r"tps = ([0-9.]+)", out).group(1))


class BenchWorker:
    def __init__(self, log_path: str) -> None:
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "trader.cli", "worker", "--batch-size", "100",
                                      "--poll-interval", "0.5", "--worker-id", "bench"],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONPATH": str(REPO / "python")})
        deadline = time.monotonic() + 30
        while '"connected"' not in Path(log_path).read_text():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the worker did not start: " + Path(log_path).read_text())
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


def prepare(conn: psycopg.Connection) -> None:
    conn.execute("TRUNCATE tr_paper_orders, tr_fills, tr_inbox, tr_strand, tr_positions, tr_execution_performance, dm_strand")
    conn.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES (%s, ARRAY['tr:market_update'], %s)",
                 (SYMBOL, Jsonb({"bid": "100", "ask": "100.02"})))


def insert_decision(conn: psycopg.Connection, decision_id: str) -> None:
    conn.execute("INSERT INTO dm_strand (id, module, kind, symbol, order_spec, tags) "
                 "VALUES (%s, 'dm', 'decision', %s, %s, ARRAY['trader:execute'])",
                 (decision_id, SYMBOL, Jsonb(SPEC)))


def decision_times(conn: psycopg.Connection, arrivals: Arrivals) -> dict[str, float]:
    """Decision id -> first report arrival."""
    rows = conn.execute("SELECT id, decision_id FROM tr_strand WHERE id = ANY(%s)", (list(arrivals.times),)).fetchall()
    return {decision_id: arrivals.times[strand_id] for strand_id, decision_id in rows}


def wait_for_reports(arrivals: Arrivals, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(arrivals.times) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    if len(arrivals.times) < n:
        raise RuntimeError(f"only {len(arrivals.times)} of {n} reports arrived")


def pipeline(decisions: int, prefix: str = "tp") -> float:
    """Decisions per second, first insert to last report notification."""
    with connect(autocommit=True) as dm:
        prepare(dm)
        arrivals = Arrivals()
        arrivals.listen(None)
        start = time.perf_counter()
        for i in range(decisions):
            insert_decision(dm, f"{prefix}-{i:07d}")
        wait_for_reports(arrivals, decisions, timeout=60 + decisions / 50)
        arrivals.stop.set()
        return decisions / (max(arrivals.times.values()) - start)


def latency(rate: float, seconds: float, prefix: str = "lat") -> dict[str, float]:
    """p50/p99 in ms at a fixed offered rate, insert commit to report notification."""
    n = max(1, int(rate * seconds))
    with connect(autocommit=True) as dm:
        prepare(dm)
        arrivals = Arrivals()
        arrivals.listen(None)
        committed: dict[str, float] = {}
        start = time.perf_counter()
        for i in range(n):
            due = start + i / rate
            while (now := time.perf_counter()) < due:
                time.sleep(min(due - now, 0.002))
            decision_id = f"{prefix}-{i:07d}"
            insert_decision(dm, decision_id)
            committed[decision_id] = time.perf_counter()
        wait_for_reports(arrivals, n, timeout=60)
        arrivals.stop.set()
        arrived = decision_times(dm, arrivals)
    samples = sorted((arrived[d] - committed[d]) * 1000 for d in committed)
    pick = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]  # noqa: E731
    achieved = n / (max(arrived.values()) - start)
    return {"offered_rate": rate, "achieved_rate": round(achieved, 1), "n": n,
            "p50_ms": round(pick(0.50), 2), "p99_ms": round(pick(0.99), 2), "max_ms": round(samples[-1], 2)}


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    with connect(autocommit=True) as conn:
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0]
                    for name in ("server_version", "fsync", "synchronous_commit", "wal_sync_method", "shared_buffers")}
    return {"cpu": f"{cpu} x {os.cpu_count()}", "memory": f"{mem_kb / 1048576:.1f} GiB",
            "os": platform.platform(), "python": platform.python_version(), **settings}


def write_results(path: Path, facts: dict[str, str], ref_tps: float, pipe_tps: float, lat: dict[str, float],
                  notes: str) -> str:
    ratio = pipe_tps / ref_tps if ref_tps else 0.0
    text = "\n".join([
        "# Trader Module benchmark", "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `make bench` (bench/bench.py).", "",
        "## Machine and settings", "",
        *(f"- {k}: {v}" for k, v in facts.items()), "",
        "## Results", "",
        "| measure | value |", "|---|---|",
        f"| reference: INSERT into dm_strand + NOTIFY, one transaction each, one client (pgbench) | {ref_tps:.0f} tx/s |",
        f"| pipeline: decisions/s, insert to report notification at the Decision Maker (1 DM connection, 1 worker, paper venue, curation on) | {pipe_tps:.0f} /s |",
        f"| pipeline / reference | {ratio:.2f} (target >= 0.5) |",
        f"| latency at {lat['offered_rate']:.0f} decisions/s offered ({lat['n']} decisions, {lat['achieved_rate']}/s achieved): p50 | {lat['p50_ms']} ms |",
        f"| latency p99 | {lat['p99_ms']} ms (target < 10 ms) |",
        f"| latency max | {lat['max_ms']} ms |", "",
        notes.strip(), ""])
    path.write_text(text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference-seconds", type=float, default=10)
    parser.add_argument("--decisions", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--rate-seconds", type=float, default=10)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.md")
    parser.add_argument("--notes", type=Path, default=REPO / "bench" / "notes.md",
                        help="what limits the pipeline, appended to the results")
    args = parser.parse_args()

    facts = machine()
    ref_tps = reference(args.reference_seconds)
    print(f"reference: {ref_tps:.0f} tx/s", flush=True)
    worker = BenchWorker(str(Path(tempfile.gettempdir()) / "trader-bench-worker.log"))
    try:
        pipe_tps = pipeline(args.decisions)
        print(f"pipeline: {pipe_tps:.0f} decisions/s ({pipe_tps / ref_tps:.2f} of the reference)", flush=True)
        lat = latency(args.rate, args.rate_seconds)
        print(f"latency at {args.rate:.0f}/s: p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms", flush=True)
    finally:
        worker.stop()
    notes = args.notes.read_text() if args.notes.exists() else ""
    write_results(args.out, facts, ref_tps, pipe_tps, lat, notes)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
