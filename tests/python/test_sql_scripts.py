"""The psql scripts in sql/ are documentation a new user runs: they must work, and
rerun, against a deployed database."""

from __future__ import annotations

import os
import subprocess
from decimal import Decimal

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def psql_file(name: str) -> str:
    done = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-f", os.path.join(REPO, "sql", name)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_walkthrough_runs_the_whole_path_and_reruns(db):
    first = psql_file("walkthrough.sql")
    assert "== 9. Execution quality and the pipeline" in first
    psql_file("walkthrough.sql")
    executions = db.execute(
        "SELECT exec_metrics->>'status', count(*) FROM tr_strand WHERE kind = 'execution' AND symbol = 'WALK-BTC' GROUP BY 1"
    ).fetchall()
    assert executions == [("filled", 2)]
    qty, unrealized = db.execute("SELECT quantity, unrealized_pnl FROM tr_positions WHERE symbol = 'WALK-BTC'").fetchone()
    assert qty == Decimal("1.0")
    assert unrealized == (Decimal(65500) - Decimal(65014)) * qty, "marked at the last good quote's mid, not the crossed one"
    assert db.execute("SELECT count(*) FROM tr_unapplied_input WHERE reason = 'CROSSED_QUOTE'").fetchone()[0] == 2


def test_status_script_reads_every_view(db):
    out = psql_file("status.sql")
    for heading in ("pipeline", "positions", "execution quality", "recent reports", "not applied"):
        assert heading in out
