"""The README's tables of order statuses and reason codes, made from the rows that
define them (tr_statuses, tr_reason_codes), so the docs and the code cannot drift.

    .venv/bin/python scripts/readme_tables.py [--check] [README.md]

rewrites the text between the README's `<!-- table:NAME -->` and `<!-- /table:NAME -->`
markers from a deployed database (libpq environment, or DATABASE_URL); with --check it
changes nothing and exits 1 when the README is out of date.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import psycopg

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


def tables(conn: psycopg.Connection) -> dict[str, str]:
    return {name: head + "\n".join(r[0] for r in conn.execute(sql).fetchall()) + "\n"
            for name, (head, sql) in QUERIES.items()}


def render(readme: str, made: dict[str, str]) -> str:
    for name, table in made.items():
        pattern = re.compile(rf"(<!-- table:{name} -->\n).*?(<!-- /table:{name} -->)", re.S)
        if not pattern.search(readme):
            raise SystemExit(f"readme_tables: the README has no <!-- table:{name} --> ... <!-- /table:{name} --> markers")
        readme = pattern.sub(lambda m: m.group(1) + table + m.group(2), readme)
    return readme


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [a for a in argv if not a.startswith("--")]
    path = Path(paths[0] if paths else Path(__file__).resolve().parent.parent / "README.md")
    with psycopg.connect(os.environ.get("DATABASE_URL", "")) as conn:
        made = render(path.read_text(), tables(conn))
    if made == path.read_text():
        return 0
    if check:
        print(f"readme_tables: {path} is out of date; run: make docs", file=sys.stderr)
        return 1
    path.write_text(made)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
