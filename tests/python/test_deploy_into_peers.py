"""Deploying into a database where the peer modules' tables already exist, and
reverting from it: the peers' tables and rows stay, and roles that another
deployment still uses are kept."""

from __future__ import annotations

import os
import subprocess
import uuid

import psycopg
import pytest
from psycopg import sql

from trader.db import connect

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sqitch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sqitch", *args], cwd=REPO, capture_output=True, text=True, check=True)


@pytest.fixture
def peer_db():
    name = "peers_" + uuid.uuid4().hex[:8]
    with connect(autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with connect(autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_existing_peer_tables_are_used_and_kept(peer_db):
    with psycopg.connect(dbname=peer_db, autocommit=True) as conn:
        conn.execute("""
            CREATE TABLE dm_strand (
                id text PRIMARY KEY, lifecycle_id text, parent_id text, module text, kind text, symbol text,
                timeframe text, session_bucket text, regime text, signal_strength numeric, order_spec jsonb,
                tags text[], created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(),
                dm_private_note text)""")
        conn.execute("COMMENT ON TABLE dm_strand IS 'owned by the Decision Maker'")
        conn.execute("INSERT INTO dm_strand (id, tags) VALUES ('DM-OWN-1', ARRAY['dm:internal'])")

    target = f"db:pg:{peer_db}"
    sqitch("deploy", "--verify", target)
    with psycopg.connect(dbname=peer_db, autocommit=True) as conn:
        assert conn.execute("SELECT obj_description('dm_strand'::regclass, 'pg_class')").fetchone()[0] == \
            "owned by the Decision Maker", "an existing peer table is not re-marked"
        assert conn.execute("SELECT obj_description('rm_strand'::regclass, 'pg_class')").fetchone()[0] \
            .startswith("Created by the Trader module"), "a missing peer table is created and marked"
        conn.execute("INSERT INTO dm_strand (id, order_spec, tags) VALUES ('DM-OWN-2', '{}', ARRAY['trader:execute'])")
        assert conn.execute("SELECT count(*) FROM tr_inbox WHERE id = 'DM-OWN-2'").fetchone()[0] == 1, \
            "the Trader's trigger works on the peer's own table"

    # The test cluster's main database still grants to the module roles, so the
    # revert must keep them rather than fail.
    reverted = sqitch("revert", "-y", target)
    assert "- core/roles" in reverted.stdout
    with psycopg.connect(dbname=peer_db, autocommit=True) as conn:
        assert conn.execute("SELECT array_agg(id ORDER BY id) FROM dm_strand").fetchone()[0] == ["DM-OWN-1", "DM-OWN-2"], \
            "the peer's table and rows survive the revert"
        assert conn.execute("SELECT to_regclass('rm_strand'), to_regclass('tr_strand'), to_regclass('tr_inbox')").fetchone() \
            == (None, None, None), "what the module created is gone"
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'dm_strand'::regclass AND NOT tgisinternal") \
            .fetchone()[0] == 0, "the module's triggers are gone from the peer's table"
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname IN ('dm_module', 'tr_worker')").fetchone()[0] == 2, \
            "roles still used by another database are kept"
