"""Risk updates and exit monitors with real concurrent sessions."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from conftest import run_concurrently
from trader.db import connect


def check(db, order_id: str) -> tuple[str, str]:
    return db.execute("SELECT reason, detail FROM tr_pre_trade_check(ARRAY[%s])", (order_id,)).fetchone()


def test_a_halt_fails_the_next_check_of_a_decision_that_passed(db):
    db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES "
               "('H-1', 'HALT-A', '{\"side\": \"buy\", \"qty\": 1}', ARRAY['trader:execute'])")
    assert check(db, "H-1")[0] == "OK"
    with connect() as risk_manager:
        risk_manager.execute("INSERT INTO rm_strand (tags, risk_update) VALUES (ARRAY['tr:risk_update'], %s)",
                             (Jsonb({"scope": "HALT-A", "trading_state": "halted"}),))
        assert check(db, "H-1")[0] == "OK", "an uncommitted halt is not yet in force"
        risk_manager.commit()
    assert check(db, "H-1") == ("TRADING_HALTED", "trading is halted for HALT-A")
    db.execute("INSERT INTO rm_strand (tags, risk_update) VALUES (ARRAY['tr:risk_update'], %s)",
               (Jsonb({"scope": "HALT-A", "trading_state": "active"}),))
    assert check(db, "H-1")[0] == "OK", "lifting the halt lets it pass again"


def test_concurrent_quotes_crossing_one_stop_make_one_exit_order(db):
    db.execute("INSERT INTO dm_strand (id, symbol, order_spec, tags) VALUES "
               "('ST-1', 'STOP-A', '{\"side\": \"buy\", \"qty\": 2, \"stop_loss_px\": 95}', ARRAY['trader:execute'])")
    db.execute("SELECT tr_report_execution('ST-1', %s)",
               (Jsonb({"status": "filled", "venue": "paper_a", "fills": [{"fill_id": "s1", "px": "100", "qty": "2"}]}),))

    def publish(market_data, n: int) -> None:
        for k in range(5):
            market_data.execute(
                "INSERT INTO md_strand (symbol, tags, market_data) VALUES ('STOP-A', ARRAY['tr:market_update'], %s)",
                (Jsonb({"bid": str(94 - k), "ask": str(94.5 - k)}),))

    run_concurrently(8, publish)
    exits = db.execute("SELECT order_spec->>'side', order_spec->>'qty' FROM tr_inbox WHERE source = 'monitor'").fetchall()
    assert exits == [("sell", "2")]
    assert db.execute("SELECT monitoring_state->>'status' FROM tr_strand WHERE kind = 'monitoring'").fetchone()[0] == "triggered"
