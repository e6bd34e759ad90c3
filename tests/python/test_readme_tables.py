"""The README's tables of statuses and reason codes are made from the rows that define
them: a code added or changed without `make docs` fails here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from trader.db import connect

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "scripts" / "readme_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_tables_are_the_databases():
    readme_tables = load_script()
    readme = (ROOT / "README.md").read_text()
    with connect() as conn:
        made = readme_tables.tables(conn)
        codes = conn.execute("SELECT count(*) FROM tr_reason_codes").fetchone()[0]
    assert readme_tables.render(readme, made) == readme, "README.md is out of date: run make docs"
    assert sum(table.count("\n| `") for name, table in made.items() if name != "statuses") == codes, \
        "every reason code is in one of the tables"
