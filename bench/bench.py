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
  history     pipeline and latency again with N past orders present (--history N,
              default 1,000,000; 0 skips it): each a done tr_inbox row, its tr_fills
              row, its execution and fill strands, its tr_execution_performance row
              and the curators' scores, loaded set-based and analyzed.
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


HISTORY_SQL = r"""
SET session_replication_role = replica;  -- history is past: no routing, enqueue or scoring triggers
SET maintenance_work_mem = '512MB';
CREATE TEMP TABLE bench_history ON COMMIT DROP AS
SELECT g, format('hist-%s', lpad(g::text, 8, '0')) AS order_id,
       format('00H%s', lpad(g::text, 23, '0')) AS exec_id, format('00F%s', lpad(g::text, 23, '0')) AS fill_strand_id,
       CASE WHEN g % 20 = 0 THEN 'BENCH-A' ELSE format('HIST-%s', g % 20) END AS symbol,
       CASE WHEN g % 3 = 0 THEN 'paper_b' ELSE 'paper_a' END AS venue,
       CASE WHEN g % 2 = 0 THEN 'buy' ELSE 'sell' END AS side,
       round(100 + (g % 97) * 0.01, 8) AS px, 0.01::numeric AS qty,
       __START__::timestamptz + g * interval '30 s' AS ts
  FROM generate_series(__FROM__, __TO__) g;
CREATE TEMP TABLE bench_history_curation ON COMMIT DROP AS
SELECT v.venue, jsonb_build_object('order_qty', '0.01', 'tr_predict', jsonb_build_object('slip_bps', 1.0, 'fill_prob', 1.0, 'latency_ms', 5.0),
       'lesson_metadata', jsonb_build_object('venue', v.venue, 'threshold', 0.3, 'adjusted_score', 0.9, 'combined_score', 0.9,
            'failed_curators', '{}'::jsonb, 'lessons_applied', '[]'::jsonb, 'size_multiplier', 1.0, 'confidence_boost', 1.0,
            'curators', jsonb_build_object(
                'risk_curator', jsonb_build_object('score', 0.8, 'weight', 1.0, 'predictions', jsonb_build_object('limit_usage', 0.0, 'concentration', 1.0)),
                'venue_curator', jsonb_build_object('score', 0.94, 'weight', 1.0, 'predictions', jsonb_build_object('slip_bps', 1.0, 'venue_costs_bps', jsonb_build_object('paper_a', 3.06, 'paper_b', 7.4))),
                'execution_curator', jsonb_build_object('score', 0.98, 'weight', 1.0, 'predictions', jsonb_build_object('slip_bps', 1.0, 'fill_prob', 1.0, 'latency_ms', 5.0))))) AS curation
  FROM (VALUES ('paper_a'), ('paper_b')) v(venue);
INSERT INTO tr_inbox (id, source, source_id, symbol, order_spec, side, qty, order_type, tif, venue, state, status,
                      order_qty, filled_qty, fill_value, fees, venue_order_id, submitted_at, last_fill_at, arrival_px,
                      arrival_source, execution_id, submit_intent_at, curation, claim_count, created_at, updated_at)
SELECT h.order_id, 'decision', h.order_id, h.symbol,
       jsonb_build_object('qty', '0.01', 'tif', 'ioc', 'side', h.side, 'order_type', 'market'), h.side, h.qty, 'market', 'ioc',
       h.venue, 'done', 'filled', h.qty, h.qty, h.qty * h.px, round(h.qty * h.px * 0.0002, 8), h.exec_id,
       h.ts + interval '10 ms', h.ts + interval '15 ms', h.px - 0.01, 'quote', h.exec_id, h.ts + interval '8 ms', c.curation, 1,
       h.ts, h.ts + interval '16 ms'
  FROM bench_history h JOIN bench_history_curation c USING (venue);
INSERT INTO tr_fills (order_id, fill_id, px, qty, fee, ts, venue, strand_id)
SELECT h.order_id, format('%s-%s-1', h.venue, h.order_id), h.px, h.qty, round(h.qty * h.px * 0.0002, 8),
       h.ts + interval '15 ms', h.venue, h.fill_strand_id
  FROM bench_history h;
INSERT INTO tr_strand (id, parent_id, kind, symbol, decision_id, route_hint, fills, exec_metrics, tags, created_at, updated_at)
SELECT h.fill_strand_id, h.exec_id, 'fill', h.symbol, h.order_id, h.venue, jsonb_build_array(tr_fill_json(f)),
       jsonb_build_object('status', 'filled', 'venue', f.venue, 'fill_id', f.fill_id, 'px', f.px, 'qty', f.qty,
                          'fee', f.fee, 'client_order_id', h.order_id), '{}', h.ts + interval '16 ms', h.ts + interval '16 ms'
  FROM bench_history h JOIN tr_fills f ON f.order_id = h.order_id;
INSERT INTO tr_strand (id, parent_id, kind, symbol, decision_id, order_spec, route_hint, tr_predict, fills, exec_metrics,
                       position_data, lesson_metadata, tags, created_at, updated_at)
SELECT h.exec_id, h.order_id, 'execution', h.symbol, h.order_id, i.order_spec, h.venue, i.curation->'tr_predict',
       jsonb_build_array(tr_fill_json(f)), tr_exec_metrics(i),
       jsonb_build_object('symbol', h.symbol, 'quantity', 0.01, 'avg_price', h.px, 'mark_price', h.px, 'updated_at', h.ts,
                          'realized_pnl', 0, 'unrealized_pnl', 0),
       i.curation->'lesson_metadata', ARRAY['dm:execution_report'], h.ts + interval '16 ms', h.ts + interval '16 ms'
  FROM bench_history h JOIN tr_inbox i ON i.id = h.order_id JOIN tr_fills f ON f.order_id = h.order_id;
INSERT INTO tr_execution_performance (id, execution_id, venue, symbol, execution_score, slippage_bps, latency_ms, lesson_metadata, created_at)
SELECT format('00P%s', lpad(h.g::text, 23, '0')), h.exec_id, h.venue, h.symbol, 0.98, 1.0, 5,
       c.curation->'lesson_metadata', h.ts + interval '16 ms'
  FROM bench_history h JOIN bench_history_curation c USING (venue);
INSERT INTO tr_curator_performance (id, curator_type, execution_id, contribution_score, accuracy_score, learning_metadata,
                                    created_at, weighed_at)
SELECT format('00C%s%s', k.n, lpad(h.g::text, 22, '0')), k.curator, h.exec_id, 0.33, 0.8,
       jsonb_build_object('score', 0.9, 'venue', h.venue, 'symbol', h.symbol, 'weight', 1.0,
                          'outcome', jsonb_build_object('slip_bps', 1.0, 'fill_ratio', 1, 'latency_ms', 5)),
       h.ts + interval '16 ms', h.ts + interval '60 s'
  FROM bench_history h
 CROSS JOIN (VALUES (1, 'risk_curator'), (2, 'venue_curator'), (3, 'execution_curator')) k(n, curator);
"""

HISTORY_INDEXED = ("tr_strand", "tr_inbox", "tr_fills", "tr_execution_performance", "tr_curator_performance")


def load_history(n: int, connections: int = 2) -> float:
    """Loads n past orders; returns the seconds it took. The tables' secondary indexes
    are dropped and built again around the load (building an index once is far cheaper
    than maintaining it row by row, the GIN indexes above all), and the rows go in
    through one connection per core."""
    started = time.perf_counter()
    with connect(autocommit=True) as conn:
        indexes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY (%s::regclass[]) AND NOT indisprimary "
            "AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = indexrelid)",
            (list(HISTORY_INDEXED),)).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        start = conn.execute("SELECT now() - %s * interval '30 s' - interval '1 hour'", (n,)).fetchone()[0]

        def load(first: int, last: int) -> None:
            with connect() as part:
                part.execute(HISTORY_SQL.replace("__FROM__", str(first)).replace("__TO__", str(last))
                             .replace("__START__", f"'{start.isoformat()}'"))

        step = -(-n // connections)
        parts = [threading.Thread(target=load, args=(first, min(n, first + step - 1)))
                 for first in range(1, n + 1, step)]
        for part in parts:
            part.start()
        for part in parts:
            part.join()
        conn.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            conn.execute(definition)
        for table in HISTORY_INDEXED:
            conn.execute(f"VACUUM ANALYZE {table}")
        loaded = conn.execute("SELECT count(*) FROM tr_strand WHERE kind = 'execution'").fetchone()[0]
        if loaded < n:
            raise RuntimeError(f"history: {loaded} execution strands loaded of {n}")
    return time.perf_counter() - started


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


def prepare(conn: psycopg.Connection, history: bool = False) -> None:
    if history:
        # Only what earlier runs added goes: the history is older than an hour, one order every 30 s over the past.
        for table, column in (("tr_fills", "ts"), ("tr_curator_performance", "created_at"),
                              ("tr_execution_performance", "created_at"), ("tr_strand", "created_at"),
                              ("tr_inbox", "created_at")):
            conn.execute(f"DELETE FROM {table} WHERE {column} > now() - interval '1 hour'")
        conn.execute("TRUNCATE tr_paper_orders, tr_positions, dm_strand")
    else:
        conn.execute("TRUNCATE tr_paper_orders, tr_fills, tr_inbox, tr_strand, tr_positions, tr_execution_performance, "
                     "tr_curator_performance, dm_strand")
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


def pipeline(decisions: int, prefix: str = "tp", history: bool = False) -> float:
    """Decisions per second, first insert to last report notification."""
    with connect(autocommit=True) as dm:
        prepare(dm, history)
        arrivals = Arrivals()
        arrivals.listen(None)
        start = time.perf_counter()
        for i in range(decisions):
            insert_decision(dm, f"{prefix}-{i:07d}")
        wait_for_reports(arrivals, decisions, timeout=60 + decisions / 50)
        arrivals.stop.set()
        return decisions / (max(arrivals.times.values()) - start)


def latency(rate: float, seconds: float, prefix: str = "lat", history: bool = False) -> dict[str, float]:
    """p50/p99 in ms at a fixed offered rate, insert commit to report notification."""
    n = max(1, int(rate * seconds))
    with connect(autocommit=True) as dm:
        prepare(dm, history)
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


@dataclass
class Pass:
    """One pass of the pipeline and latency measures, on an empty database or with history."""
    label: str
    pipe_tps: float
    lat: dict[str, float]


def measure(args: argparse.Namespace, history: bool) -> Pass:
    worker = BenchWorker(str(Path(tempfile.gettempdir()) / "trader-bench-worker.log"))
    label = f"{args.history:,} past orders" if history else "empty"
    try:
        pipe_tps = pipeline(args.decisions, "htp" if history else "tp", history)
        print(f"pipeline ({label}): {pipe_tps:.0f} decisions/s", flush=True)
        lat = latency(args.rate, args.rate_seconds, "hlat" if history else "lat", history)
        print(f"latency at {args.rate:.0f}/s ({label}): p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms", flush=True)
    finally:
        worker.stop()
    return Pass(label, pipe_tps, lat)


def write_results(path: Path, facts: dict[str, str], ref_tps: float, passes: list[Pass], history_load_s: float | None,
                  notes: str) -> str:
    empty = passes[0]

    def row(measure: str, cell, target: str) -> str:
        return f"| {measure} | " + " | ".join(cell(p) for p in passes) + f" | {target} |"

    within = lambda p, key: "" if p is empty else f" ({p.lat[key] / empty.lat[key]:.2f} x empty)"  # noqa: E731
    lat = empty.lat
    text = "\n".join([
        "# Trader Module benchmark", "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `make bench` (bench/bench.py).", "",
        "## Machine and settings", "",
        *(f"- {k}: {v}" for k, v in facts.items()), "",
        "## Results", "",
        f"Reference: INSERT into a dm_strand-shaped table + NOTIFY, one transaction each, one client (pgbench): "
        f"**{ref_tps:.0f} tx/s**.", "",
        "Pipeline: decisions/s from the first insert to the last report notification at the Decision Maker "
        "(1 DM connection, 1 worker, paper venue, curation on). Latency: per decision, from its insert's commit "
        f"to its report's notification at the Decision Maker, {lat['n']} decisions offered at {lat['offered_rate']:.0f}/s.",
        *([f"History: each past order is a done tr_inbox row, a tr_fills row, an execution and a fill strand, "
           f"a tr_execution_performance row and three curator scores; loaded and analyzed in {history_load_s:.0f} s."]
          if history_load_s is not None else []), "",
        "| measure | " + " | ".join(p.label for p in passes) + " | target |",
        "|---|" + "---|" * len(passes) + "---|",
        row("pipeline, decisions/s", lambda p: f"{p.pipe_tps:.0f}", ""),
        row("pipeline / reference", lambda p: f"{p.pipe_tps / ref_tps:.2f}", ">= 0.5"),
        row("latency achieved rate, /s", lambda p: f"{p.lat['achieved_rate']}", ""),
        row("latency p50", lambda p: f"{p.lat['p50_ms']} ms{within(p, 'p50_ms')}", "<= 5 ms (history: <= 1.25 x empty)"),
        row("latency p99", lambda p: f"{p.lat['p99_ms']} ms{within(p, 'p99_ms')}", "<= 10 ms (history: <= 1.25 x empty)"),
        row("latency max", lambda p: f"{p.lat['max_ms']} ms", ""), "",
        notes.strip(), ""])
    path.write_text(text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference-seconds", type=float, default=10)
    parser.add_argument("--decisions", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--rate-seconds", type=float, default=10)
    parser.add_argument("--history", type=int, default=1_000_000,
                        help="past orders loaded for the second pass; 0 runs the empty database only")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.md")
    parser.add_argument("--notes", type=Path, default=REPO / "bench" / "notes.md",
                        help="what limits the pipeline, appended to the results")
    args = parser.parse_args()

    facts = machine()
    ref_tps = reference(args.reference_seconds)
    print(f"reference: {ref_tps:.0f} tx/s", flush=True)
    passes = [measure(args, history=False)]
    history_load_s = None
    if args.history > 0:
        history_load_s = load_history(args.history)
        print(f"history: {args.history} past orders loaded in {history_load_s:.0f} s", flush=True)
        passes.append(measure(args, history=True))
    notes = args.notes.read_text() if args.notes.exists() else ""
    write_results(args.out, facts, ref_tps, passes, history_load_s, notes)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
