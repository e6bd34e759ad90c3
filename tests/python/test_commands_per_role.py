"""The read-only commands work for every role the docs give them: `trader status` and
`trader health` as the inspector and as the worker, never a permission error."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.fixture
def inspector_login(db):
    db.execute("DROP ROLE IF EXISTS trader_inspector_login")
    db.execute("CREATE ROLE trader_inspector_login LOGIN PASSWORD 'inspector-test' IN ROLE tr_inspector")
    yield {"PGUSER": "trader_inspector_login", "PGPASSWORD": "inspector-test"}
    db.execute("DROP ROLE trader_inspector_login")


@pytest.fixture
def worker_login(db):
    db.execute("ALTER ROLE tr_worker PASSWORD 'worker-test'")
    return {"PGUSER": "tr_worker", "PGPASSWORD": "worker-test"}


def trader(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trader", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("login", ["inspector_login", "worker_login"])
def test_status_and_health_read_everything_as_the_role(request, db, login):
    env = request.getfixturevalue(login)
    status = trader(env, "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert {"pipeline", "positions", "lessons", "workers", "jobs", "dead_letters"} <= set(report)
    health = trader(env, "health", "--json")
    assert health.returncode in (0, 1), health.stderr  # degraded is fine here (no worker runs); down is not
    assert "permission denied" not in health.stdout + health.stderr
