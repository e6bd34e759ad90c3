"""Lesson-enhanced curation, end to end through a real worker: weights, lessons and
plug-in curators decide, and the report says why."""

from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest
from psycopg.types.json import Jsonb

from conftest import wait_for
from trader import store
from trader.curation import LessonEnhancedCuration
from trader.curators import builtin_curators

PLUGINS = textwrap.dedent('''
    import time
    from trader.curators import CuratorResult

    class Sceptic:
        """Scores every order 0.25 and predicts a fill probability of 0.5."""
        name = "sceptic_curator"
        def evaluate(self, ctx):
            return CuratorResult(0.25, {"fill_prob": 0.5})

    class Broken:
        name = "broken_curator"
        def evaluate(self, ctx):
            raise RuntimeError("model file missing")

    class Slow:
        name = "slow_curator"
        def evaluate(self, ctx):
            time.sleep(2)
            return CuratorResult(1.0)

    class Odd:
        """Predicts what JSON cannot carry."""
        name = "odd_curator"
        def evaluate(self, ctx):
            return CuratorResult(0.5, {"slip_bps": float("nan")})
''')


@pytest.fixture
def plugin_path(tmp_path):
    (tmp_path / "curator_plugins.py").write_text(PLUGINS)
    return str(tmp_path)


@pytest.fixture
def restore_curation(db):
    yield
    db.execute("UPDATE tr_curator_weights SET weight = 1, confidence = 0.5")
    db.execute("DELETE FROM tr_curator_weights WHERE curator_type NOT IN ('execution_curator', 'venue_curator', 'risk_curator')")
    db.execute("UPDATE tr_settings SET value = '250' WHERE key = 'curation.timeout_ms'")


def quote(db, symbol: str, bid: str, ask: str) -> None:
    db.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES (%s, ARRAY['tr:market_update'], %s)",
               (symbol, Jsonb({"bid": bid, "ask": ask})))


def decide(db, order_id: str, symbol: str, spec: dict) -> None:
    db.execute("INSERT INTO dm_strand (id, symbol, regime, order_spec, tags) VALUES (%s, %s, 'trend', %s, ARRAY['trader:execute'])",
               (order_id, symbol, Jsonb(spec)))


def report(db, order_id: str) -> dict:
    def final():
        row = db.execute("SELECT exec_metrics, lesson_metadata, tr_predict, route_hint FROM tr_strand "
                         "WHERE kind = 'execution' AND decision_id = %s AND exec_metrics->>'status' IN ('filled', 'rejected')",
                         (order_id,)).fetchone()
        return row and {"metrics": row[0], "lessons": row[1], "predict": row[2], "venue": row[3]}
    return wait_for(final)


def lesson(db, kind: str, conditions: dict, effects: dict) -> str:
    return db.execute("INSERT INTO tr_strand (kind, symbol, lesson_metadata) VALUES (%s, %s, %s) RETURNING id",
                      (kind, conditions.get("symbol"),
                       Jsonb({"lesson": {"conditions": conditions, "effects": effects, "insight": "test lesson"}}))).fetchone()[0]


def test_a_valid_decision_is_approved_under_default_weights_and_the_report_explains_it(db, start_worker):
    quote(db, "CV-A", "100", "100.04")
    worker = start_worker()
    decide(db, "CV-1", "CV-A", {"side": "buy", "qty": "1"})
    r = report(db, "CV-1")
    assert r["metrics"]["status"] == "filled"
    curators = r["lessons"]["curators"]
    assert set(curators) == {"execution_curator", "venue_curator", "risk_curator"}
    for name, entry in curators.items():
        assert 0 <= entry["score"] <= 1 and entry["weight"] == 1 and isinstance(entry["predictions"], dict), name
    predicted = curators["execution_curator"]["predictions"]
    assert set(predicted) >= {"fill_prob", "slip_bps", "latency_ms"}, "the learning loop scores these against the outcome"
    assert set(r["predict"]) == {"fill_prob", "slip_bps", "latency_ms"} and r["predict"]["fill_prob"] == 1
    assert r["lessons"]["lessons_applied"] == [] and r["lessons"]["confidence_boost"] == 1
    assert worker.stop() == 0


def test_weights_change_the_outcome(db, start_worker, restore_curation):
    quote(db, "CW-A", "100", "100.02")
    db.execute("INSERT INTO rm_strand (tags, risk_update) VALUES (ARRAY['tr:risk_update'], '{\"scope\": \"CW-A\", \"max_order_qty\": 10}')")
    worker = start_worker()
    decide(db, "CW-1", "CW-A", {"side": "buy", "qty": "9.9"})  # 99% of the order limit
    assert report(db, "CW-1")["metrics"]["status"] == "filled", "approved under equal weights"
    db.execute("UPDATE tr_curator_weights SET weight = 20 WHERE curator_type = 'risk_curator'")
    decide(db, "CW-2", "CW-A", {"side": "buy", "qty": "9.9"})
    rejected = report(db, "CW-2")
    assert (rejected["metrics"]["status"], rejected["metrics"]["reason"]) == ("rejected", "CURATOR_REJECTED")
    assert rejected["lessons"]["curators"]["risk_curator"]["weight"] == 20
    assert rejected["lessons"]["adjusted_score"] < rejected["lessons"]["threshold"]
    assert worker.stop() == 0


def test_a_lesson_avoiding_a_venue_moves_the_order(db, start_worker):
    quote(db, "CL-A", "100", "100.02")
    worker = start_worker()
    decide(db, "CL-1", "CL-A", {"side": "buy", "qty": "0.5"})
    assert report(db, "CL-1")["venue"] == "paper_a", "without lessons the cheaper venue"
    avoid = lesson(db, "braid", {"symbol": "CL-A", "venue": "paper_a"}, {"avoid_venue": "paper_a"})
    decide(db, "CL-2", "CL-A", {"side": "buy", "qty": "0.5"})
    moved = report(db, "CL-2")
    assert moved["venue"] == "paper_b" and moved["metrics"]["status"] == "filled"
    assert moved["lessons"]["curators"]["venue_curator"]["predictions"]["venue_costs_bps"]["paper_a"] > 100
    decide(db, "CL-3", "CL-B", {"side": "buy", "qty": "0.5"})
    quote(db, "CL-B", "100", "100.02")
    assert avoid not in report(db, "CL-3")["lessons"]["lessons_applied"], "a lesson for one symbol leaves others alone"
    assert worker.stop() == 0


def test_a_size_lesson_scales_the_quantity_down(db, start_worker):
    quote(db, "CS-A", "50", "50.01")
    shrink = lesson(db, "meta_braid", {"regime": "trend"}, {"size_multiplier": 0.5, "confidence_multiplier": 0.9})
    worker = start_worker()
    decide(db, "CS-1", "CS-A", {"side": "sell", "qty": "3"})
    r = report(db, "CS-1")
    m = r["metrics"]
    assert (m["status"], m["requested_qty"], m["order_qty"], m["filled_qty"]) == ("filled", 3, 1.5, 1.5)
    assert r["lessons"]["lessons_applied"] == [shrink]
    assert r["lessons"]["confidence_boost"] == Decimal("0.9") and r["lessons"]["size_multiplier"] == 0.5
    assert db.execute("SELECT quantity FROM tr_positions WHERE symbol = 'CS-A'").fetchone()[0] == -1.5
    assert worker.stop() == 0


def test_a_plugin_curator_takes_part_and_failing_ones_are_skipped(db, start_worker, plugin_path, restore_curation):
    quote(db, "CP-A", "100", "100.02")
    db.execute("UPDATE tr_settings SET value = '300' WHERE key = 'curation.timeout_ms'")
    worker = start_worker("--curators", "curator_plugins:Sceptic,curator_plugins:Broken,curator_plugins:Slow,curator_plugins:Odd",
                          env={"PYTHONPATH": plugin_path})
    decide(db, "CP-1", "CP-A", {"side": "buy", "qty": "1"})
    r = report(db, "CP-1")
    decide(db, "CP-2", "CP-A", {"side": "buy", "qty": "1"})
    second = report(db, "CP-2")
    assert second["lessons"]["failed_curators"]["slow_curator"] == "still busy with an earlier batch", \
        "a curator that has not returned is not given another thread"
    assert r["metrics"]["status"] == "filled", "the worker went on"
    curators = r["lessons"]["curators"]
    assert curators["sceptic_curator"] == {"score": 0.25, "weight": 1.0, "predictions": {"fill_prob": 0.5}}
    assert set(curators) == {"execution_curator", "venue_curator", "risk_curator", "sceptic_curator"}
    failed = r["lessons"]["failed_curators"]
    assert failed["broken_curator"] == "RuntimeError: model file missing"
    assert failed["slow_curator"].startswith("timed out")
    assert failed["odd_curator"] == "ValueError: prediction nan is not a finite number"
    assert r["predict"]["fill_prob"] == 0.75, "tr_predict is the weighted mean of the curators that predicted"
    registered = {row[0] for row in db.execute("SELECT curator_type FROM tr_curator_weights").fetchall()}
    assert {"sceptic_curator", "broken_curator", "slow_curator", "odd_curator"} <= registered, "each plug-in got a weight row"
    assert worker.proc.poll() is None
    assert worker.stop() == 0


def curate_in_process(db, order_ids: list[str]) -> tuple[dict, dict]:
    """The worker's two steps, without the worker: the database's context, then curation."""
    contexts = store.curation_context(db, order_ids)
    curation = LessonEnhancedCuration(builtin_curators(), ["paper_a", "paper_b"], "paper_a", 0.3, 5.0)
    try:
        return contexts, curation.curate(contexts)
    finally:
        curation.close()


def work_item(db, order_id: str, symbol: str, spec: dict) -> None:
    db.execute("INSERT INTO tr_inbox (id, source, source_id, symbol, regime, order_spec) VALUES (%s, 'decision', %s, %s, 'trend', %s)",
               (order_id, order_id, symbol, Jsonb(spec)))


def effect_at(context: dict, venue: str) -> dict:
    return next(v["lesson_effect"] for v in context["venues"] if v["name"] == venue)


def test_curation_applies_the_databases_lesson_effect_bounds_and_all(db):
    quote(db, "CX-A", "100", "100.02")
    bold = lesson(db, "braid", {"symbol": "CX-A"}, {"confidence_multiplier": 10, "size_multiplier": "0.3"})
    work_item(db, "CX-1", "CX-A", {"side": "buy", "qty": "10"})
    contexts, curated = curate_in_process(db, ["CX-1"])
    decision = curated["CX-1"]
    sql = effect_at(contexts["CX-1"], decision.venue)
    assert sql == {"lessons": [bold], "confidence_multiplier": Decimal("2.0"), "size_multiplier": Decimal("0.3"),
                   "avoid": False, "prefer": False}, "the database holds 10 at 2.0"
    meta = decision.lesson_metadata
    assert (meta["confidence_boost"], meta["size_multiplier"], meta["lessons_applied"]) == (2.0, 0.3, [bold])
    assert decision.order_qty == Decimal("3.00000000"), "10 x 0.3 exactly, never a float's 2.99999999"
    assert meta["adjusted_score"] == pytest.approx(meta["combined_score"] * 2.0, abs=2e-4)


def test_curation_has_no_bounds_of_its_own(db):
    """Whatever multipliers the context carries are the ones applied: the bounds live
    in tr_lesson_effect alone."""
    quote(db, "CX-B", "100", "100.02")
    work_item(db, "CX-2", "CX-B", {"side": "buy", "qty": "1", "venue": "paper_a"})
    contexts = store.curation_context(db, ["CX-2"])
    effect = effect_at(contexts["CX-2"], "paper_a")
    effect.update(confidence_multiplier=Decimal(10), size_multiplier=Decimal("0.123456789"), lessons=["SQL-SAID-SO"])
    curation = LessonEnhancedCuration(builtin_curators(), ["paper_a", "paper_b"], "paper_a", 0.3, 5.0)
    try:
        decision = curation.curate(contexts)["CX-2"]
    finally:
        curation.close()
    meta = decision.lesson_metadata
    assert (meta["confidence_boost"], meta["lessons_applied"]) == (10.0, ["SQL-SAID-SO"])
    assert decision.order_qty == Decimal("0.12345678"), "qty x size rounded down to 8 places"


def test_the_risk_curator_sees_a_book_of_one_symbol_as_fully_concentrated(db):
    quote(db, "CR-A", "100", "100.02")
    quote(db, "CR-B", "50", "50.02")
    work_item(db, "CR-1", "CR-A", {"side": "buy", "qty": "1"})
    _, curated = curate_in_process(db, ["CR-1"])
    risk = curated["CR-1"].lesson_metadata["curators"]["risk_curator"]["predictions"]
    assert risk["concentration"] == 1.0, "nothing else is held: the order's symbol is all of the exposure"

    db.execute("SELECT tr_apply_fill('CR-B', 'buy', 2, 50)")  # 100 of exposure elsewhere
    _, curated = curate_in_process(db, ["CR-1"])
    risk = curated["CR-1"].lesson_metadata["curators"]["risk_curator"]["predictions"]
    assert risk["concentration"] == pytest.approx(100.02 / 200.02, abs=1e-4), "its share beside the other position"
