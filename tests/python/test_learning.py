"""The learning loop end to end: a venue that slips three times the prediction on
one symbol becomes a braid and a lesson, weights move, and the next decision for
that symbol is curated differently, visibly in its report."""

from __future__ import annotations

from decimal import Decimal

import pytest
from psycopg.types.json import Jsonb

from conftest import wait_for


@pytest.fixture
def slow_paper_a(db):
    """paper_a slips 3x its impact model on LRN-A; paper_b is dearer, so only a
    lesson (not fees) moves orders away from paper_a."""
    saved = dict(db.execute("SELECT name, params FROM tr_venues").fetchall())
    db.execute("UPDATE tr_venues SET params = jsonb_set(params, '{slippage_multipliers,LRN-A}', '3') WHERE name = 'paper_a'")
    db.execute("UPDATE tr_venues SET params = jsonb_set(params, '{fee_bps}', '12') WHERE name = 'paper_b'")
    yield
    for name, params in saved.items():
        db.execute("UPDATE tr_venues SET params = %s WHERE name = %s", (Jsonb(params), name))
    db.execute("TRUNCATE tr_braid_members, tr_curator_weight_history")
    db.execute("UPDATE tr_curator_weights SET weight = 1, confidence = 0.5, lesson_adjustments = '{}'")


def execute(db, order_id: str) -> dict:
    db.execute("INSERT INTO dm_strand (id, symbol, regime, timeframe, order_spec, tags) "
               "VALUES (%s, 'LRN-A', 'trend', '5m', '{\"side\": \"buy\", \"qty\": \"5\"}', ARRAY['trader:execute'])", (order_id,))

    def done():
        row = db.execute("SELECT route_hint, exec_metrics, tr_predict, lesson_metadata FROM tr_strand "
                         "WHERE kind = 'execution' AND decision_id = %s AND exec_metrics->>'status' = 'filled'",
                         (order_id,)).fetchone()
        return row and {"venue": row[0], "metrics": row[1], "predict": row[2], "lessons": row[3]}
    return wait_for(done)


def test_a_venue_that_slips_more_than_predicted_is_learned_and_avoided(db, start_worker, slow_paper_a):
    db.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES ('LRN-A', ARRAY['tr:market_update'], '{\"bid\": 100, \"ask\": 100.01}')")
    worker = start_worker()
    first = [execute(db, f"LRN-{i}") for i in range(6)]
    assert {r["venue"] for r in first} == {"paper_a"}, "before any lesson the cheaper venue is used"
    real = first[0]["metrics"]["slip_real_bps"]
    predicted = first[0]["predict"]["slip_bps"]
    assert real > Decimal("2.5") * predicted, "paper_a slips about three times the prediction on this symbol"

    assert db.execute("SELECT tr_form_braids()").fetchone()[0] >= 1
    braid_id, stats, lesson = db.execute(
        "SELECT id, lesson_metadata->'stats', lesson_metadata->'lesson' FROM tr_strand WHERE kind = 'braid' "
        "AND symbol = 'LRN-A' AND route_hint = 'paper_a'").fetchone()
    assert stats["n"] == 6 and stats["mean_excess_slip_bps"] > 2
    assert lesson["conditions"] == {"symbol": "LRN-A", "venue": "paper_a", "regime": "trend", "timeframe": "5m"}
    assert lesson["effects"]["avoid_venue"] == "paper_a"
    assert "LRN-A orders in a trend regime on paper_a slipped" in lesson["insight"]
    assert db.execute("SELECT count(*) FROM tr_braid_members WHERE braid_id = %s", (braid_id,)).fetchone()[0] == 6

    assert db.execute("SELECT tr_update_curator_weights()").fetchone()[0] == 3
    weights = dict(db.execute("SELECT curator_type, weight FROM tr_curator_weights").fetchall())
    assert weights["execution_curator"] != 1 or weights["venue_curator"] != 1, "the weights moved with the evidence"
    assert db.execute("SELECT count(*) FROM tr_curator_weight_history").fetchone()[0] == 3

    after = execute(db, "LRN-NEXT")
    assert after["venue"] == "paper_b", "the lesson moved the order to the other venue"
    assert braid_id in after["lessons"]["lessons_applied"], "the report says which lesson steered it"
    assert after["lessons"]["size_multiplier"] == 1, "the lesson's 'trade smaller' holds at paper_a only"
    costs = after["lessons"]["curators"]["venue_curator"]["predictions"]["venue_costs_bps"]
    assert costs["paper_a"] > costs["paper_b"], "the venue preference moved: paper_a now costs more"
    assert worker.stop() == 0
