"""The docs' tables of order statuses and reason codes, made from the rows that define
them (tr_statuses, tr_reason_codes), so the docs and the code cannot drift.

    .venv/bin/python scripts/readme_tables.py [--check] [FILE.md ...]

rewrites the text between `<!-- table:NAME -->` and `<!-- /table:NAME -->` markers
from a deployed database (libpq environment, or DATABASE_URL). The files are
README.md and docs/*.md unless named; every table's markers must be in exactly one of
them. With --check it changes nothing and exits 1 when a file is out of date.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent

QUERIES = {
    "statuses": ("| status | final | meaning |\n|---|---|---|\n",
                 "SELECT format('| `%s` | %s | %s |', status, CASE WHEN final THEN 'yes' ELSE 'no' END, meaning)"
                 " FROM tr_statuses ORDER BY status"),
    "order-reasons": ("| code | decided at | meaning |\n|---|---|---|\n",
                      "SELECT format('| `%s` | %s | %s |', code, stage, meaning) FROM tr_reason_codes"
                      " WHERE applies = 'order' ORDER BY array_position(ARRAY['intake', 'pre-trade', 'curation', 'venue',"
                      " 'report', 'worker'], stage), seq"),
    "input-reasons": ("| code | input | meaning |\n|---|---|---|\n",
                      "SELECT format('| `%s` | %s | %s |', code, stage, meaning) FROM tr_reason_codes"
                      " WHERE applies = 'input' ORDER BY stage, seq"),
}


def doc_files() -> list[Path]:
    """The files that may hold tables: the README and the reference in docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def tables(conn: psycopg.Connection) -> dict[str, str]:
    return {name: head + "\n".join(r[0] for r in conn.execute(sql).fetchall()) + "\n"
            for name, (head, sql) in QUERIES.items()}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- table:{re.escape(name)} -->\n).*?(<!-- /table:{re.escape(name)} -->)", re.S)


def render(text: str, made: dict[str, str]) -> str:
    """The text with every table whose markers it holds remade; tables it lacks are left alone."""
    for name, table in made.items():
        text = _pattern(name).sub(lambda m: m.group(1) + table + m.group(2), text)
    return text


def render_files(texts: dict[Path, str], made: dict[str, str]) -> dict[Path, str]:
    """Each file's text remade; raises SystemExit unless every table is in exactly one file."""
    for name in made:
        holders = [path for path, text in texts.items() if _pattern(name).search(text)]
        if len(holders) != 1:
            where = ", ".join(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p) for p in holders) or "none"
            raise SystemExit(f"readme_tables: <!-- table:{name} --> ... <!-- /table:{name} --> must be in exactly one "
                             f"file; found in: {where}")
    return {path: render(text, made) for path, text in texts.items()}


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [Path(a) for a in argv if not a.startswith("--")] or doc_files()
    texts = {path: path.read_text() for path in paths}
    with psycopg.connect(os.environ.get("DATABASE_URL", "")) as conn:
        made = render_files(texts, tables(conn))
    stale = [path for path in paths if made[path] != texts[path]]
    if check:
        for path in stale:
            print(f"readme_tables: {path} is out of date; run: make docs", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(made[path])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
