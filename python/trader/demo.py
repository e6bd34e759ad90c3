"""`trader demo`: a simulated Market Data module (random-walk quotes) and a simulated
Decision Maker (decisions at a chosen rate, some with stop-loss and take-profit)
writing to the real tables, while a live view shows what the Trader makes of them.
A worker must be running against the same database.

So that a short run shows the system learn, the demo makes paper_a slip several
times its model on the first symbol (restored at the end) and runs the learning
jobs (braids, curator weights) every few seconds instead of pg_cron's minute."""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TextIO

from psycopg.types.json import Jsonb

from trader.db import connect
from trader.status import table

REPORT_CHANNEL = "decision_maker_strand_notification"
START_PRICES = [Decimal("65000"), Decimal("3200"), Decimal("145"), Decimal("0.62"), Decimal("24")]


@dataclass
class DemoStats:
    sent: int = 0
    reports: int = 0          # report notifications received (one per status change)
    final: dict[str, str] = field(default_factory=dict)    # decision id -> final status
    latencies_ms: list[float] = field(default_factory=list)  # insert commit -> first report notification
    venues: Counter = field(default_factory=Counter)
    exits: int = 0            # reports for exit orders made by monitors
    started: float = field(default_factory=time.monotonic)

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Demo:
    def __init__(self, dsn: str | None, rate: float, symbols: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.rate = rate
        self.symbols = [f"DEMO-{i + 1}" for i in range(symbols)]
        self.prices = {s: START_PRICES[i % len(START_PRICES)] for i, s in enumerate(self.symbols)}
        self.market_data = connect(dsn, autocommit=True)
        self.decision_maker = connect(dsn, autocommit=True)
        self.listener = connect(dsn, autocommit=True)
        self.final_statuses = {r[0] for r in self.listener.execute("SELECT status::text FROM tr_statuses WHERE final")}
        self.listener.execute(f"LISTEN {REPORT_CHANNEL}")
        self.stats = DemoStats()
        self._dsn = dsn
        self._learning: threading.Thread | None = None
        self._slow_symbol = self.symbols[0]
        self._saved_params = self.decision_maker.execute(
            "SELECT params FROM tr_venues WHERE name = 'paper_a'").fetchone()[0]
        qty = Decimal(1000) / self.prices[self._slow_symbol]
        impact = Decimal(str(self._saved_params.get("impact_bps_per_unit", 1))) or Decimal(1)
        # About 10 bps of extra slippage on this one symbol: enough to be learned.
        multiplier = (Decimal(10) / (impact * qty)).quantize(Decimal("0.01"))
        self.decision_maker.execute(
            "UPDATE tr_venues SET params = jsonb_set(params, ARRAY['slippage_multipliers', %s], to_jsonb(%s::numeric)) "
            "WHERE name = 'paper_a'", (self._slow_symbol, multiplier))
        self._sent_at: dict[str, float] = {}
        self._run = f"{int(time.time())}"

    def close(self) -> None:
        self.decision_maker.execute("UPDATE tr_venues SET params = %s WHERE name = 'paper_a'", (Jsonb(self._saved_params),))
        for conn in (self.market_data, self.decision_maker, self.listener):
            conn.close()

    def learn(self) -> None:
        """The learning jobs, as pg_cron runs them every minute; in a thread of its own
        so that the demo's latency clock never waits for them."""
        if self._learning is not None and self._learning.is_alive():
            return

        def run() -> None:
            with connect(self._dsn, autocommit=True) as conn:
                conn.execute("SELECT tr_form_braids(), tr_update_curator_weights()")

        self._learning = threading.Thread(target=run, daemon=True)
        self._learning.start()

    def publish_quotes(self) -> None:
        rows = []
        for symbol in self.symbols:
            px = self.prices[symbol]
            px = max(px * (1 + Decimal(str(round(self.rng.gauss(0, 0.0015), 6)))), Decimal("0.01")).quantize(Decimal("0.0001"))
            self.prices[symbol] = px
            half_spread = max(px * Decimal("0.0001"), Decimal("0.0001"))
            rows.append((symbol, Jsonb({"bid": str((px - half_spread).quantize(Decimal("0.0001"))),
                                        "ask": str((px + half_spread).quantize(Decimal("0.0001")))})))
        with self.market_data.cursor() as cur:
            cur.executemany("INSERT INTO md_strand (module, kind, symbol, tags, market_data) "
                            "VALUES ('md', 'quote', %s, ARRAY['tr:market_update'], %s)", rows)

    def send_decision(self) -> None:
        symbol = self.rng.choice(self.symbols)
        px = self.prices[symbol]
        side = self.rng.choice(["buy", "sell"])
        qty = (Decimal(1000) / px).quantize(Decimal("0.0001")) or Decimal("0.0001")
        spec: dict[str, Any] = {"side": side, "qty": str(qty), "order_type": "market", "tif": "ioc", "ref_px": str(px)}
        if self.rng.random() < 0.3:
            away = px * Decimal("0.004")
            stop, target = (px - away, px + away) if side == "buy" else (px + away, px - away)
            spec |= {"stop_loss_px": str(stop.quantize(Decimal("0.0001"))), "take_profit_px": str(target.quantize(Decimal("0.0001")))}
        decision_id = f"demo-{self._run}-{self.stats.sent + 1:06d}"
        self.decision_maker.execute(
            "INSERT INTO dm_strand (id, lifecycle_id, module, kind, symbol, timeframe, regime, signal_strength, order_spec, tags) "
            "VALUES (%s, %s, 'dm', 'decision', %s, '1m', 'demo', %s, %s, ARRAY['trader:execute'])",
            (decision_id, decision_id, symbol, Decimal(str(round(self.rng.uniform(0.5, 1), 2))), Jsonb(spec)))
        self._sent_at[decision_id] = time.monotonic()
        self.stats.sent += 1

    def collect_reports(self, wait: float = 0.0) -> None:
        """Takes the report notifications that arrive within `wait` seconds (stamped on
        arrival, so latency is measured here and not at the next redraw)."""
        arrived: dict[str, float] = {}
        deadline = time.monotonic() + wait
        while True:
            remaining = deadline - time.monotonic()
            got = 0
            for note in self.listener.notifies(timeout=max(remaining, 0.0), stop_after=1 if remaining > 0 else None):
                got += 1
                payload = json.loads(note.payload)
                if payload.get("kind") == "execution":
                    arrived.setdefault(payload["strand_id"], time.monotonic())
                    self.stats.reports += 1
            if not got or remaining <= 0:
                break
        if not arrived:
            return
        rows = self.decision_maker.execute(
            "SELECT id, decision_id, exec_metrics->>'status', route_hint FROM tr_strand WHERE id = ANY(%s)",
            (list(arrived),)).fetchall()
        for strand_id, decision_id, status, venue in rows:
            sent_at = self._sent_at.pop(decision_id, None)
            if sent_at is not None:
                self.stats.latencies_ms.append((arrived[strand_id] - sent_at) * 1000)
                self.stats.venues[venue] += 1
            elif decision_id not in self.stats.final and not decision_id.startswith("demo-"):
                self.stats.exits += 1
            if status in self.final_statuses:
                self.stats.final[decision_id] = status

    def view(self, duration: float, elapsed: float) -> str:
        s = self.stats
        done = min(1.0, elapsed / duration) if duration else 1.0
        bar = "#" * int(done * 30) + "." * (30 - int(done * 30))
        rate = s.reports / elapsed if elapsed > 0 else 0.0
        p50, p99 = s.percentile(0.5), s.percentile(0.99)
        lines = [f"trader demo  [{bar}] {elapsed:5.1f}/{duration:.0f}s",
                 f"decisions sent {s.sent}   reports {s.reports} ({rate:.1f}/s)   final {len(s.final)}   exits by monitors {s.exits}",
                 f"latency decision->report  p50 {_ms(p50)}  p99 {_ms(p99)}",
                 "venues chosen  " + ("  ".join(f"{v} {n}" for v, n in sorted(s.venues.items())) or "-"),
                 "", "positions"]
        rows = self.decision_maker.execute(
            "SELECT symbol, side, quantity, avg_price, mark_price, unrealized_pnl, realized_pnl, total_pnl "
            "FROM tr_position_pnl WHERE symbol = ANY(%s) ORDER BY symbol", (self.symbols,)).fetchall()
        cols = ["symbol", "side", "quantity", "avg_price", "mark_price", "unrealized_pnl", "realized_pnl", "total_pnl"]
        lines += table([dict(zip(cols, r)) for r in rows], cols)
        weights = self.decision_maker.execute(
            "SELECT curator_type, weight FROM tr_curator_leaderboard").fetchall()
        lines += ["", "curator weights  " + "  ".join(f"{name} {weight:.3f}" for name, weight in weights)]
        lessons = self.decision_maker.execute(
            "SELECT kind, insight, count(*) OVER () FROM tr_active_lessons "
            "WHERE conditions->>'symbol' = ANY(%s) OR kind = 'meta_braid' "
            "ORDER BY (effects ? 'avoid_venue' OR effects ? 'prefer_venue') DESC, updated_at DESC LIMIT 4",
            (self.symbols,)).fetchall()
        lines += [f"lessons ({lessons[0][2] if lessons else 0} active; those that change decisions first)"]
        lines += [f"  {kind}: {insight}" for kind, insight, _ in lessons]
        return "\n".join(lines)

    def run(self, duration: float, out: TextIO, settle: float = 15.0) -> DemoStats:
        live = out.isatty()
        start = time.monotonic()
        next_quote = next_decision = next_view = start
        next_learn = start + 5
        while (now := time.monotonic()) < start + duration:
            if now >= next_quote:
                self.publish_quotes()
                next_quote = now + 0.25
            while next_decision <= now and now < start + duration:
                self.send_decision()
                next_decision += 1.0 / self.rate
            if now >= next_learn:
                self.learn()
                next_learn = now + 5
            if now >= next_view:
                self._draw(out, live, self.view(duration, now - start))
                next_view = now + (0.5 if live else 2.0)
            self.collect_reports(wait=max(0.0, min(next_quote, next_decision, next_view) - time.monotonic()))
        deadline = time.monotonic() + settle
        while self._sent_at and time.monotonic() < deadline:
            self.collect_reports(wait=0.1)
        self.learn()
        if self._learning is not None:
            self._learning.join(30)
        self._draw(out, live, self.view(duration, duration))
        out.write(f"\n{self.stats.sent} decisions sent, {len(self.stats.final)} reported final"
                  f"{'' if not self._sent_at else f', {len(self._sent_at)} without a report'}.\n")
        out.flush()
        return self.stats

    @staticmethod
    def _draw(out: TextIO, live: bool, text: str) -> None:
        out.write(("\x1b[H\x1b[2J" if live else "\n") + text + "\n")
        out.flush()


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def main(dsn: str | None, duration: float, rate: float, symbols: int, out: TextIO = sys.stdout) -> int:
    demo = Demo(dsn, rate, symbols)
    try:
        stats = demo.run(duration, out)
    finally:
        demo.close()
    return 0 if stats.sent and len(stats.final) >= stats.sent else 1
