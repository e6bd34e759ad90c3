"""`trader tca` against real rows: decisions through the intake (and through a real
worker), reports, quotes; the text, JSON and HTML outputs carry the database's figures."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from psycopg.types.json import Jsonb

from conftest import wait_for
from trader import tca


def quote(db, symbol: str, bid: str, ask: str) -> None:
    db.execute("INSERT INTO md_strand (symbol, tags, market_data) VALUES (%s, ARRAY['tr:market_update'], %s)",
               (symbol, Jsonb({"bid": bid, "ask": ask})))


def decide(db, order_id: str, symbol: str, spec: dict) -> None:
    db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES (%s, %s, %s, ARRAY['trader:execute'])",
               (order_id, symbol, Jsonb(spec)))


def report(db, order_id: str, venue: str, px: str, qty: str, predicted: str, status: str = "filled") -> None:
    db.execute("SELECT tr_report_execution(%s, %s)", (order_id, Jsonb({
        "status": status, "venue": venue, "submitted_at": "now", "tr_predict": {"slip_bps": Decimal(predicted)},
        "fills": [{"fill_id": f"{order_id}-f", "px": px, "qty": qty, "fee": "0.01",
                   "ts": db.execute("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
                                    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')").fetchone()[0]}]})))


@pytest.fixture
def traded(db):
    """Three orders on two venues, quotes before and after them."""
    quote(db, "TCA-P", "99", "101")
    decide(db, "TP-1", "TCA-P", {"side": "buy", "qty": "2"})
    decide(db, "TP-2", "TCA-P", {"side": "sell", "qty": "3"})
    decide(db, "TP-3", "TCA-P", {"side": "buy", "qty": "20", "ref_px": "100"})
    report(db, "TP-1", "paper_a", "100.5", "2", "40")
    report(db, "TP-2", "paper_a", "99.8", "3", "10")
    report(db, "TP-3", "paper_b", "100.2", "10", "15", status="cancelled")
    quote(db, "TCA-P", "100.5", "101.5")
    return db


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = tca.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_figures_are_the_databases(traded, capsys):
    code, out, err = run(capsys, "--since", "1h", "--json")
    assert code == 0, err
    report = json.loads(out, parse_float=Decimal)
    assert [o["order_id"] for o in report["orders"]] == ["TP-1", "TP-2", "TP-3"]
    sql = traded.execute("SELECT dimension, grp, orders, fill_ratio::text, mean_slip_bps::text, shortfall::text,"
                         " p90_latency_ms::text FROM tr_tca_summary ORDER BY dimension, grp").fetchall()
    got = [(r["dimension"], r["grp"], r["orders"], r["fill_ratio"], r["mean_slip_bps"], r["shortfall"],
            r["p90_latency_ms"]) for r in report["summary"]]
    assert got == [tuple(row) for row in sql]
    venues = {r["grp"]: r for r in report["summary"] if r["dimension"] == "venue"}
    # TP-1: arrival mid 100, buy 2 @ 100.5 -> 50 bps; TP-2: sell 3 @ 99.8 -> 20 bps
    assert venues["paper_a"]["mean_slip_bps"] == "35.0000"
    # TP-3: 10 of 20 @ 100.2 against 100 + fee 0.01 + (101 - 100) x 10 unfilled at the last mark
    assert Decimal(venues["paper_b"]["shortfall"]) == Decimal("2") + Decimal("0.01") + Decimal("10")
    errors = traded.execute("SELECT venue, mean_error_bps::text, mean_abs_error_bps::text"
                            " FROM tr_tca_prediction_error ORDER BY venue").fetchall()
    assert [(r["venue"], r["mean_error_bps"], r["mean_abs_error_bps"]) for r in report["prediction"]] \
        == [tuple(r) for r in errors]


def test_html_report_embeds_four_plots_and_the_tables(traded, capsys, tmp_path):
    path = tmp_path / "tca.html"
    code, out, err = run(capsys, "--since", "30m", "--html", str(path))
    assert code == 0, err
    page = path.read_text()
    assert page.count("src='data:image/png;base64,") == 4
    for title in ("By venue", "By symbol", "By size bucket", "By hour of decision", "Predicted against realized",
                  "<table", "TP-3", "paper_b"):
        assert title in page
    assert "By venue" in out and "paper_a" in out and str(path) in out


def test_an_empty_period_still_makes_a_whole_report(db, capsys, tmp_path):
    path = tmp_path / "empty.html"
    code, out, err = run(capsys, "--since", "12h", "--html", str(path))
    assert code == 0, err
    assert path.read_text().count("data:image/png;base64,") == 4
    assert "(none)" in out


@pytest.mark.parametrize("argv, code", [(["--since", "7x"], 2), (["--since", "0d"], 2),
                                        (["--dsn", "postgresql://nobody@127.0.0.1:1/none"], 1),
                                        (["--html", "/nonexistent-dir/x.html"], 1)])
def test_errors_are_one_line_and_a_nonzero_exit(db, capsys, argv, code):
    got, out, err = run(capsys, *argv)
    assert got == code
    assert err.count("\n") == 1 and err.startswith("trader tca: ") and "Traceback" not in err


def test_orders_executed_by_a_real_worker_are_analysed(db, start_worker, capsys):
    quote(db, "TCA-W", "99", "101")
    for n in range(3):
        decide(db, f"TW-{n}", "TCA-W", {"side": "buy" if n % 2 else "sell", "qty": "1"})
    start_worker()
    wait_for(lambda: db.execute("SELECT count(*) = 3 FROM tr_inbox WHERE id LIKE 'TW-%' AND filled_qty > 0").fetchone()[0])
    quote(db, "TCA-W", "100", "102")
    code, out, err = run(capsys, "--since", "1h", "--json")
    assert code == 0, err
    orders = json.loads(out)["orders"]
    assert sorted(o["order_id"] for o in orders) == ["TW-0", "TW-1", "TW-2"]
    assert all(o["arrival_source"] == "quote" and o["arrival_px"] == "100" for o in orders)
    assert all(o["latency_ms"] is not None and o["predicted_slip_bps"] is not None for o in orders)
