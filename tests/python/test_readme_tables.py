"""The docs' tables of statuses and reason codes are made from the rows that define
them: a code added or changed without `make docs` fails here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from trader.db import connect

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "scripts" / "readme_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_tables_are_the_databases():
    readme_tables = load_script()
    texts = {path: path.read_text() for path in readme_tables.doc_files()}
    with connect() as conn:
        made = readme_tables.tables(conn)
        codes = conn.execute("SELECT count(*) FROM tr_reason_codes").fetchone()[0]
    remade = readme_tables.render_files(texts, made)
    stale = [str(path.relative_to(ROOT)) for path in texts if remade[path] != texts[path]]
    assert not stale, f"{', '.join(stale)} out of date: run make docs"
    assert sum(table.count("\n| `") for name, table in made.items() if name != "statuses") == codes, \
        "every reason code is in one of the tables"


def test_every_table_is_in_exactly_one_file(tmp_path):
    readme_tables = load_script()
    made = {name: "| x |\n" for name in readme_tables.QUERIES}
    markers = "".join(f"<!-- table:{name} -->\nold\n<!-- /table:{name} -->\n" for name in made)
    one, two = tmp_path / "one.md", tmp_path / "two.md"
    assert readme_tables.render_files({one: markers, two: "no tables\n"}, made)[one].count("| x |") == len(made)
    with pytest.raises(SystemExit, match="exactly one file"):
        readme_tables.render_files({one: markers, two: markers}, made)
    with pytest.raises(SystemExit, match="found in: none"):
        readme_tables.render_files({two: "no tables\n"}, made)
