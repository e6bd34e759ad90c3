"""`trader demo`: a simulated Market Data module (random-walk quotes) and a simulated
Decision Maker (decisions at a chosen rate, some with stop-loss and take-profit)
writing to the real tables, while a live view shows what the Trader makes of them.
A worker must be running against the same database.

So that a short run shows the system learn, the demo makes paper_a slip several
times its model on the first symbol (restored at the end) and runs the learning
jobs (braids, curator weights) every few seconds instead of pg_cron's minute.

The story it must show, every run: a lesson forms from real executions and then
changes a later decision. The venue curator also learns from realized slippage and
would leave paper_a after a few executions, before a braid could form; so the
Decision Maker first names paper_a for the slowed symbol until braids.min_size of
its executions there are filled, and the braids are formed at once; then it lets
curation choose. Once the lesson is in force it names paper_a for a few more of the
slowed symbol's decisions (a Decision Maker that insists on its venue): the lesson
sends them at half size. Only a few: every execution at paper_a becomes evidence of
the braid, and orders whose slippage the curators now predict would turn the lesson
into "as expected". The summary counts the decisions the lesson changed (recorded in
their reports' lesson_metadata), and the exit status is 1 when it changed none."""

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
INSISTING_DECISIONS = 3   # decisions naming paper_a once the lesson is in force
START_PRICES = [Decimal("65000"), Decimal("3200"), Decimal("145"), Decimal("0.62"), Decimal("24")]


# The lesson about the slowed symbol at paper_a that this run's executions are part of.
LESSON_SQL = """
SELECT l.id, l.executions, l.mean_slip_bps, l.mean_predicted_slip_bps, l.insight
  FROM tr_active_lessons l
 WHERE l.kind = 'braid' AND l.conditions->>'symbol' = %(symbol)s AND l.conditions->>'venue' = 'paper_a'
   AND l.effects->>'avoid_venue' IS NOT NULL
   AND EXISTS (SELECT FROM tr_braid_members m JOIN tr_strand e ON e.id = m.member_id
                WHERE m.braid_id = l.id AND e.decision_id LIKE %(run)s)
 ORDER BY l.updated_at DESC LIMIT 1
"""

# This run's decisions of the slowed symbol curated with that lesson applied, and how it
# changed them: an insisting order at paper_a sent smaller, or one that curation would
# have sent to paper_a but for the lesson's 100 bps (the venue curator's own costs).
CHANGED_SQL = """
SELECT count(*) FILTER (WHERE venue = 'paper_a' AND order_qty < requested_qty) AS smaller,
       count(*) FILTER (WHERE venue <> 'paper_a' AND costs ? 'paper_a' AND (costs->>'paper_a')::numeric - 100 < (costs->>venue)::numeric) AS moved,
       count(*) AS applied
  FROM (SELECT s.exec_metrics->>'venue' AS venue, (s.exec_metrics->>'order_qty')::numeric AS order_qty,
               (s.exec_metrics->>'requested_qty')::numeric AS requested_qty,
               s.lesson_metadata->'curators'->'venue_curator'->'predictions'->'venue_costs_bps' AS costs
          FROM tr_strand s
         WHERE s.kind = 'execution' AND s.decision_id LIKE %(run)s AND s.symbol = %(symbol)s
           AND s.lesson_metadata->'lessons_applied' ? %(lesson)s) d
"""


@dataclass
class Story:
    """Whether a lesson formed from this run's executions and changed later decisions."""
    lesson_id: str | None = None
    executions: int = 0
    slip_bps: Decimal | None = None
    predicted_bps: Decimal | None = None
    smaller: int = 0      # insisting orders at paper_a sent smaller by the lesson
    moved: int = 0        # orders the lesson moved off paper_a
    applied: int = 0      # orders curated with the lesson applied

    @property
    def shown(self) -> bool:
        return self.lesson_id is not None and self.smaller + self.moved > 0

    def summary(self, symbol: str) -> str:
        if self.lesson_id is None:
            return f"the story was not shown: no lesson about {symbol} at paper_a formed from this run's executions"
        formed = (f"a lesson formed: braid {self.lesson_id} from {self.executions} executions of {symbol} at paper_a "
                  f"(slipped {self.slip_bps:.1f} bps against {self.predicted_bps:.1f} predicted): avoid paper_a, trade smaller there")
        if not self.shown:
            return formed + f"\nthe story was not shown: it was applied to {self.applied} later decisions but changed none"
        changes = [f"{self.smaller} orders that named paper_a were sent at half size"] if self.smaller else []
        changes += [f"{self.moved} went elsewhere that would have gone to paper_a without it"] if self.moved else []
        return (formed + f"\nit changed {self.smaller + self.moved} later decisions: {', '.join(changes)}"
                f" ({self.applied} later decisions of {symbol} were curated with it applied)")


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
        # Instruments of this run: the curators' recent quality and the braids are per
        # symbol, so on a database that ran the demo before, DEMO-1 would come already
        # learned and no lesson could form; each run lists its instruments afresh.
        self.symbols = [f"DEMO-{i + 1}-{_base36(int(time.time()))}" for i in range(symbols)]
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
        self._braid_size = int(self.decision_maker.execute("SELECT tr_setting('braids.min_size')").fetchone()[0])
        self._probing = True      # the slowed symbol's decisions name paper_a until a braid can form
        self._lesson_seen = False
        self._insist_left = INSISTING_DECISIONS

    def close(self) -> None:
        self.decision_maker.execute("UPDATE tr_venues SET params = %s WHERE name = 'paper_a'", (Jsonb(self._saved_params),))
        for conn in (self.market_data, self.decision_maker, self.listener):
            conn.close()

    def learn(self) -> bool:
        """The learning jobs, as pg_cron runs them every minute; in a thread of its own
        so that the demo's latency clock never waits for them. False while a run is
        still going."""
        if self._learning is not None and self._learning.is_alive():
            return False

        def run() -> None:
            with connect(self._dsn, autocommit=True) as conn:
                conn.execute("SELECT tr_form_braids(), tr_update_curator_weights()")

        self._learning = threading.Thread(target=run, daemon=True)
        self._learning.start()
        return True

    def probe_done(self) -> bool:
        """Whether enough of the slowed symbol's executions at paper_a are filled for a braid."""
        if self._probing:
            filled = self.decision_maker.execute(
                "SELECT count(*) FROM tr_strand WHERE kind = 'execution' AND decision_id LIKE %s AND symbol = %s "
                "AND exec_metrics->>'venue' = 'paper_a' AND exec_metrics->>'status' = 'filled'",
                (f"demo-{self._run}-%", self._slow_symbol)).fetchone()[0]
            self._probing = filled < self._braid_size
            return not self._probing
        return False

    def _lesson_id(self) -> str | None:
        row = self.decision_maker.execute(LESSON_SQL, {"symbol": self._slow_symbol, "run": f"demo-{self._run}-%"}).fetchone()
        return row[0] if row else None

    def watch_lesson(self) -> None:
        if not self._probing and not self._lesson_seen:
            self._lesson_seen = self._lesson_id() is not None

    def _named_venue(self, symbol: str) -> str | None:
        """paper_a for the slowed symbol while probing, and for a few decisions once the lesson is in force."""
        if symbol != self._slow_symbol:
            return None
        if self._probing:
            return "paper_a"
        if self._lesson_seen and self._insist_left > 0:
            self._insist_left -= 1
            return "paper_a"
        return None

    def story(self) -> Story:
        params = {"symbol": self._slow_symbol, "run": f"demo-{self._run}-%"}
        lesson = self.decision_maker.execute(LESSON_SQL, params).fetchone()
        if lesson is None:
            return Story()
        smaller, moved, applied = self.decision_maker.execute(CHANGED_SQL, params | {"lesson": lesson[0]}).fetchone()
        return Story(lesson[0], lesson[1], lesson[2], lesson[3], smaller, moved, applied)

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
        if venue := self._named_venue(symbol):
            spec["venue"] = venue
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

    def run(self, duration: float, out: TextIO, settle: float = 15.0) -> tuple[DemoStats, Story]:
        live = out.isatty()
        start = time.monotonic()
        next_quote = next_decision = next_view = start
        next_learn = start + 5
        while (now := time.monotonic()) < start + duration:
            if now >= next_quote:
                self.publish_quotes()
                next_quote = now + 0.25
                if self.probe_done():
                    next_learn = now  # the braid can form now: form it, rather than at the next turn
                self.watch_lesson()
            while next_decision <= now and now < start + duration:
                self.send_decision()
                next_decision += 1.0 / self.rate
            if now >= next_learn and self.learn():
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
        story = self.story()
        out.write(f"\n{story.summary(self._slow_symbol)}\n")
        out.write(f"\n{self.stats.sent} decisions sent, {len(self.stats.final)} reported final"
                  f"{'' if not self._sent_at else f', {len(self._sent_at)} without a report'}.\n")
        out.flush()
        return self.stats, story

    @staticmethod
    def _draw(out: TextIO, live: bool, text: str) -> None:
        out.write(("\x1b[H\x1b[2J" if live else "\n") + text + "\n")
        out.flush()


def _base36(n: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    while n:
        n, r = divmod(n, 36)
        text = digits[r] + text
    return text or "0"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def main(dsn: str | None, duration: float, rate: float, symbols: int, out: TextIO = sys.stdout) -> int:
    demo = Demo(dsn, rate, symbols)
    try:
        stats, story = demo.run(duration, out)
    finally:
        demo.close()
    return 0 if stats.sent and len(stats.final) >= stats.sent and story.shown else 1
