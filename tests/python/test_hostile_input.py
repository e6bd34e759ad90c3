"""A hostile peer's rows: every insert succeeds, and every decision ends as exactly one
report (rejected with a reason when the Trader cannot use it), every other row as
applied or as an unapplied record with a reason. Nothing is lost, nothing waits."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from conftest import wait_for
from trader.db import connect
from trader.venues import StreamNews, VenueOrder
from trader.worker import Worker, WorkerConfig

BIG = "x" * 100_000


@pytest.fixture
def peer() -> Iterator[psycopg.Connection]:
    """A connection acting as the peer modules (dm_module, md_module, rm_module)."""
    conn = connect(autocommit=True)
    yield conn
    conn.close()


def as_role(conn: psycopg.Connection, role: str, sql: str, params: Any = None) -> None:
    with conn.transaction():
        conn.execute(psycopg.sql.SQL("SET LOCAL ROLE {}").format(psycopg.sql.Identifier(role)))
        conn.execute(sql, params)


def decide(peer, order_id: str, spec: Any, **columns: Any) -> None:
    row = {"id": order_id, "symbol": "HX-A", "order_spec": Jsonb(spec), "tags": ["trader:execute"], **columns}
    names = psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, row))
    values = psycopg.sql.SQL(", ").join(psycopg.sql.Placeholder() * len(row))
    as_role(peer, "dm_module", psycopg.sql.SQL("INSERT INTO dm_strand ({}) VALUES ({})").format(names, values),
            list(row.values()))


def reports(db, order_id: str) -> list[tuple[str, str | None, str | None]]:
    return db.execute("SELECT exec_metrics->>'status', exec_metrics->>'reason', exec_metrics->>'detail' FROM tr_strand "
                      "WHERE kind = 'execution' AND decision_id = %s", (order_id,)).fetchall()


@pytest.mark.parametrize("qty", [-1, "-5", Decimal("-1e-30"), Decimal("-1e308"), 0, "NaN", "Infinity", Decimal("1e-30")])
def test_a_bad_quantity_is_rejected_on_arrival_with_one_report(db, peer, qty):
    decide(peer, "HQ-1", {"side": "buy", "qty": qty})
    [(status, reason, detail)] = reports(db, "HQ-1")
    assert (status, reason) == ("rejected", "INVALID_ORDER_SPEC"), "rejected in the Decision Maker's own transaction"
    assert detail.startswith("qty:"), "the detail names the field"
    assert db.execute("SELECT state FROM tr_inbox WHERE id = 'HQ-1'").fetchone()[0] == "done", "nothing left to claim"
    assert db.execute("SELECT tr_reject_decision('HQ-1', 'INVALID_ORDER_SPEC', 'again')").fetchone()[0], \
        "a rejection can always be recorded, whatever the order spec said"
    assert len(reports(db, "HQ-1")) == 1


@pytest.mark.parametrize("field, spec, columns", [
    ("venue", {"side": "buy", "qty": 1, "venue": BIG}, {}),
    ("lifecycle_id", {"side": "buy", "qty": 1}, {"lifecycle_id": BIG}),
    ("kind", {"side": "buy", "qty": 1}, {"kind": "k" * 9_000}),
    ("module", {"side": "buy", "qty": 1}, {"module": "m" * 9_000}),
    ("tags", {"side": "buy", "qty": 1}, {"tags": ["trader:execute"] + [f"t{n}" for n in range(999)]}),
    ("symbol", {"side": "buy", "qty": 1}, {"symbol": "S" * 3_000}),
    ("order_spec", {"side": "buy", "qty": 1, "note": "n" * 1_100_000}, {}),
])
def test_an_oversized_text_is_a_rejection_naming_it_never_a_failed_insert(db, peer, listener_factory, field, spec, columns):
    dm = listener_factory("decision_maker_strand_notification")
    trader = listener_factory("trader_strand_notification")
    decide(peer, "HB-1", spec, **columns)
    [(status, reason, detail)] = reports(db, "HB-1")
    assert (status, reason) == ("rejected", "INVALID_ORDER_SPEC")
    assert detail.startswith(f"{field}:"), detail
    heard = [json.loads(n.payload) for n in trader.notifies(timeout=1.0, stop_after=1)]
    assert heard and heard[0]["strand_id"] == "HB-1" and len(heard[0]["tags"]) <= 32, "the notification carries what fits"
    assert [json.loads(n.payload)["kind"] for n in dm.notifies(timeout=1.0, stop_after=1)] == ["execution"], \
        "the Decision Maker hears of the rejection at once"


def test_a_long_id_is_rejected_and_one_no_key_could_hold_is_an_unapplied_record(db, peer):
    decide(peer, "I" * 200, {"side": "buy", "qty": 1})
    [(status, reason, detail)] = reports(db, "I" * 200)
    assert (status, reason) == ("rejected", "INVALID_ORDER_SPEC") and detail.startswith("id:")
    decide(peer, "J" * 2_500, {"side": "buy", "qty": 1})
    assert db.execute("SELECT count(*) FROM tr_inbox WHERE id = %s", ("J" * 2_500,)).fetchone()[0] == 0
    assert db.execute("SELECT reason FROM tr_unapplied_input WHERE strand_id = %s", ("J" * 128,)).fetchall() == \
        [("INVALID_ORDER_SPEC",)], "the decision is recorded as unapplied input, under its first 128 characters"


def test_a_valid_order_with_a_huge_lifecycle_id_never_reaches_a_venue(db, peer):
    db.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES ('HX-A', ARRAY['tr:market_update'], "
               "'{\"bid\": 99, \"ask\": 101}')")
    decide(peer, "HL-1", {"side": "buy", "qty": 1}, lifecycle_id=BIG)
    assert db.execute("SELECT count(*) FROM tr_paper_orders WHERE client_order_id = 'HL-1'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM tr_positions WHERE symbol = 'HX-A' AND quantity <> 0").fetchone()[0] == 0, \
        "no fill, so the position still matches the venue's book"


@pytest.mark.parametrize("table, role, column, value, reason", [
    ("md_strand", "md_module", "market_data", {"symbol": "Q" * 3_000, "bid": 1, "ask": 2}, "INVALID_SYMBOL"),
    ("md_strand", "md_module", "market_data", {"symbol": "QX", "bid": BIG, "ask": 2}, "INVALID_PRICE"),
    ("rm_strand", "rm_module", "risk_update", {"scope": "R" * 3_000, "trading_state": "halted"}, "MISSING_SCOPE"),
])
def test_a_bad_quote_or_risk_update_is_an_unapplied_record(db, peer, table, role, column, value, reason):
    tag = "tr:market_update" if table == "md_strand" else "tr:risk_update"
    as_role(peer, role, psycopg.sql.SQL("INSERT INTO {} (id, tags, {}) VALUES ('HU-1', %s, %s)").format(
        psycopg.sql.Identifier(table), psycopg.sql.Identifier(column)), ([tag], Jsonb(value)))
    rows = db.execute("SELECT reason, length(detail) < 200 FROM tr_unapplied_input WHERE strand_id = 'HU-1'").fetchall()
    assert rows == [(reason, True)], "recorded once, with a reason and a detail that does not carry the hostile value on"
    assert db.execute("SELECT count(*) FROM tr_quotes").fetchone()[0] + db.execute(
        "SELECT count(*) FROM tr_risk_state").fetchone()[0] == 0, "and not applied"


# jsonb cannot hold \u0000: a peer could never insert it, so it is no input to test.
texts = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts
    | st.sampled_from(["buy", "sell", "market", "limit", "ioc", "gtc", "day", "paper_a", "paper_b", "1", "-1", "1e-9"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8)
order_specs = st.one_of(
    json_values,
    st.fixed_dictionaries({"side": json_values | st.sampled_from(["buy", "sell"]),
                           "qty": json_values | st.decimals(min_value=-10, max_value=10, places=10).map(str)},
                          optional={"order_type": json_values | st.sampled_from(["market", "limit"]),
                                    "limit_px": json_values | st.sampled_from([99, 101, "100.5"]),
                                    "tif": json_values | st.sampled_from(["ioc", "gtc", "day"]),
                                    "venue": json_values | st.sampled_from(["paper_a", "paper_b"]),
                                    "reduce_only": json_values, "stop_loss_px": json_values,
                                    "take_profit_px": json_values}))


def test_any_json_as_order_spec_gets_exactly_one_report(db, peer, start_worker):
    db.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES ('HX-A', ARRAY['tr:market_update'], "
               "'{\"bid\": 99, \"ask\": 101}')")
    worker = start_worker(poll_interval="0.05")
    worker.wait_connected()
    seen = iter(range(1_000_000))

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(order_specs, min_size=1, max_size=12))
    def check(specs: list[Any]) -> None:
        ids = [f"HP-{next(seen):07d}" for _ in specs]
        for order_id, spec in zip(ids, specs):
            decide(peer, order_id, spec)
        wait_for(lambda: db.execute("SELECT count(*) FROM tr_inbox WHERE id = ANY(%s) AND state IN ('pending', 'claimed')",
                                    (ids,)).fetchone()[0] == 0, timeout=30)
        rows = db.execute("SELECT decision_id, count(*), min(exec_metrics->>'status'), min(exec_metrics->>'reason') "
                          "FROM tr_strand WHERE kind = 'execution' AND decision_id = ANY(%s) GROUP BY 1", (ids,)).fetchall()
        assert sorted(r[0] for r in rows) == ids, "every decision got a report"
        for order_id, n, status, reason in rows:
            assert n == 1, f"{order_id}: exactly one report"
            assert status != "rejected" or reason, f"{order_id}: a rejection carries its reason"

    check()
    assert worker.proc.poll() is None, "the worker is still running"


class RaisingVenue:
    """A venue whose every submission raises: the order can never be handled."""

    can_lookup = True
    poll_interval_s = 0.0

    def __init__(self, name: str) -> None:
        self.name = name
        self.submits = 0

    def submit(self, orders: list[VenueOrder], deadline: float | None = None) -> list:
        self.submits += 1
        raise RuntimeError(f"venue exploded on submission {self.submits}")

    def query(self, client_order_id: str, symbol: str | None = None, venue_order_id: str | None = None) -> None:
        return None  # never placed

    def cancel(self, *args: Any) -> None:
        return None

    def drain_stream(self) -> StreamNews:
        return StreamNews()

    def exchange_state(self, symbols: Any = ()) -> None:
        return None

    def close(self) -> None:
        pass


def test_an_order_that_keeps_failing_becomes_a_reported_dead_letter(db, peer):
    db.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES ('HX-A', ARRAY['tr:market_update'], "
               "'{\"bid\": 99, \"ask\": 101}')")
    attempts = int(db.execute("SELECT tr_setting('inbox.max_attempts')").fetchone()[0])
    venue = RaisingVenue("paper_a")
    worker = Worker(WorkerConfig(listen=False, worker_id="dead-letters", venues=["paper_a"]))
    worker._venues = {"paper_a": venue}
    decide(peer, "HD-1", {"side": "buy", "qty": 1, "venue": "paper_a"})
    try:
        def handled() -> bool:
            try:
                worker.tick()
            except RuntimeError:
                pass
            return db.execute("SELECT state FROM tr_inbox WHERE id = 'HD-1'").fetchone()[0] == "done"
        wait_for(handled, timeout=30, interval=0)
    finally:
        worker._close()
    assert venue.submits == attempts - 1, "sent once per attempt; the last attempt found it out of attempts and stopped"
    [(status, reason, detail)] = reports(db, "HD-1")
    assert (status, reason) == ("failed", "PROCESSING_ERROR")
    assert f"venue exploded on submission {attempts - 1}" in detail, "the last error is in the detail"
    dead = db.execute("SELECT order_id, reason, attempts FROM tr_dead_letters").fetchall()
    assert dead == [("HD-1", "PROCESSING_ERROR", attempts)], "listed as a dead letter"
