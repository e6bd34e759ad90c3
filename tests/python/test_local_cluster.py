"""`make db`: the persistent local cluster keeps the port it was made with, and a
different DB_PORT is refused with one line, not silently pointed elsewhere."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def db_sh(command: str, data_dir: Path, port: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "DB_DIR": str(data_dir), "DB_PORT": str(port), "DB_NAME": "trader_local"}
    return subprocess.run([str(ROOT / "scripts" / "db.sh"), command], env=env, capture_output=True, text=True, timeout=120)


def test_a_second_db_port_for_the_same_cluster_is_refused():
    # As root the server runs as postgres, which must reach the data directory: not
    # under pytest's mode-700 temporary root.
    base = Path(tempfile.mkdtemp(prefix="trader-db-test-", dir="/var/tmp"))
    base.chmod(0o755)
    data_dir = base / "pgdata"
    first, second = free_port(), free_port()
    try:
        started = db_sh("start", data_dir, first)
        assert started.returncode == 0, started.stderr
        assert f"running on localhost:{first}" in started.stdout
        refused = db_sh("start", data_dir, second)
        assert refused.returncode == 2
        assert refused.stderr.strip().count("\n") == 0, "one line"
        assert f"listens on port {first}, not DB_PORT={second}" in refused.stderr
    finally:
        db_sh("stop", data_dir, first)
        shutil.rmtree(base, ignore_errors=True)
