"""Venue differences from the operator's side: `trader venues differences` and `trader venues
acknowledge`, built like `trader orders ...`, against the real database; `trader status`
shows them only when there are some; each role does only its part."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from psycopg.types.json import Jsonb

from test_operator import trader  # the parser operator.register builds, run in-process

STRAY = {"venue_order_id": "EX-STRAY", "order_id": None, "client_order_id": "manual-1", "symbol": "VD/USDT",
         "side": "sell", "amount": "0.5", "filled": "0", "created_at": "2026-01-01T00:00:00Z"}
DRIFT = {"asset": "VDB", "symbols": ["VDB-USD"], "exchange_qty": "1.25", "step": "0.0001"}


def reconcile(db, orders=None, balances=None) -> dict:
    return db.execute("SELECT tr_reconcile_venue('vd_venue', %s, %s)",
                      (None if orders is None else Jsonb(orders), None if balances is None else Jsonb(balances))).fetchone()[0]


def difference_id(db, kind: str) -> str:
    return db.execute("SELECT id FROM tr_open_venue_differences WHERE kind = %s", (kind,)).fetchone()[0]


def test_differences_are_listed_with_both_figures_and_the_next_step(db, capsys):
    assert trader(capsys, "venues", "differences")[1] == "no open venue differences\n"
    assert reconcile(db, [STRAY], [DRIFT]) == {"unknown_open_orders": 1, "balance_drifts": 1, "follow_up": [], "skipped": 0}
    code, out, err = trader(capsys, "venues", "differences")
    assert (code, err) == (0, ""), err
    assert "vd_venue  balance_drift  VDB  (VDB-USD)" in out
    assert "exchange 1.25  Trader 0  accepted offset 0  drift 1.25" in out
    assert "vd_venue  unknown_open_order  EX-STRAY  (VD/USDT)" in out and "open at the exchange for 0.5" in out
    assert out.count("next: ") == 2 and "trader venues acknowledge ID --why" in out


def test_an_acknowledged_drift_unblocks_its_symbol_and_is_recorded(db, capsys):
    reconcile(db, None, [DRIFT])
    check = "SELECT reason FROM tr_check_order('VDB-USD', '{\"side\": \"buy\", \"qty\": 1}')"
    assert db.execute(check).fetchone()[0] == "BALANCE_DRIFT"
    drift_id = difference_id(db, "balance_drift")
    code, out, err = trader(capsys, "venues", "acknowledge", drift_id, "--why", "a deposit of 1.25 VDB")
    assert (code, err) == (0, ""), err
    assert out.startswith(f"{drift_id}: acknowledged balance_drift VDB at vd_venue (action ")
    assert db.execute(check).fetchone()[0] == "OK"
    assert db.execute("SELECT action, reason, actor = session_user FROM tr_operator_actions").fetchone() == \
        ("acknowledge_difference", "a deposit of 1.25 VDB", True)
    assert "acknowledged by" in trader(capsys, "venues", "differences")[1]
    assert reconcile(db, None, [DRIFT])["balance_drifts"] == 0, "the acknowledged drift is the accepted offset from then on"


@pytest.mark.parametrize("argv, expected", [
    (("venues", "acknowledge", "VD-NONE", "--why", "x"), "trader: P0002 no venue difference VD-NONE (hint: "),
    (("venues", "acknowledge", "{drift}", "--why", " "), "trader: 22023 an operator action needs a reason (hint: "),
    (("venues", "acknowledge", "{stray}", "--why", "again"), "trader: 55000 venue difference "),
    (("venues", "differences", "--dsn", "postgresql://nobody@localhost:1/none"), "trader: "),
])
def test_a_refusal_is_one_line_on_stderr_and_a_nonzero_exit(db, capsys, argv, expected):
    reconcile(db, [STRAY], [DRIFT])
    ids = {"drift": difference_id(db, "balance_drift"), "stray": difference_id(db, "unknown_open_order")}
    db.execute("SELECT tr_acknowledge_difference(%s, 'placed by hand')", (ids["stray"],))
    code, out, err = trader(capsys, *(a.format(**ids) for a in argv))
    assert code == 1 and out == ""
    assert err.startswith(expected) and err.count("\n") == 1, err
    assert "Traceback" not in err


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trader", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60)


def test_status_shows_venue_differences_only_when_there_are_some(db):
    plain = run({}, "status")
    assert plain.returncode == 0, plain.stderr
    assert "Venue differences" not in plain.stdout
    reconcile(db, None, [DRIFT])
    text = run({}, "status")
    assert "Venue differences" in text.stdout
    [row] = [line.split() for line in text.stdout.splitlines() if " balance_drift " in line]
    assert row[1:8] == ["vd_venue", "balance_drift", "VDB", "1.25", "0", "0", "1.25"], "both figures, offset, drift"
    [data] = json.loads(run({}, "status", "--json").stdout)["venue_differences"]
    assert (data["exchange_figure"], data["trader_figure"], data["acknowledged"]) == ("1.25", "0", False)


@pytest.fixture
def logins(db):
    for name, role in (("vd_inspector_login", "tr_inspector"), ("vd_operator_login", "tr_operator")):
        db.execute(f"DROP ROLE IF EXISTS {name}")
        db.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'vd-test' IN ROLE {role}")
    db.execute("ALTER ROLE tr_worker PASSWORD 'worker-test'")
    yield {"inspector": {"PGUSER": "vd_inspector_login", "PGPASSWORD": "vd-test"},
           "operator": {"PGUSER": "vd_operator_login", "PGPASSWORD": "vd-test"},
           "worker": {"PGUSER": "tr_worker", "PGPASSWORD": "worker-test"}}
    db.execute("DROP ROLE vd_inspector_login")
    db.execute("DROP ROLE vd_operator_login")


def test_each_role_does_its_part(db, logins):
    reconcile(db, None, [DRIFT])
    drift_id = difference_id(db, "balance_drift")
    for role in ("inspector", "operator", "worker"):
        listed = run(logins[role], "venues", "differences")
        assert listed.returncode == 0 and drift_id in listed.stdout, (role, listed.stderr)
    for role in ("inspector", "worker"):
        refused = run(logins[role], "venues", "acknowledge", drift_id, "--why", "not mine to say")
        assert refused.returncode == 1 and refused.stderr.startswith("trader: 42501 "), (role, refused.stderr)
    done = run(logins["operator"], "venues", "acknowledge", drift_id, "--why", "checked at the exchange")
    assert done.returncode == 0, done.stderr
    assert db.execute("SELECT acknowledged_by FROM tr_venue_differences WHERE id = %s", (drift_id,)).fetchone()[0] == \
        "vd_operator_login"
