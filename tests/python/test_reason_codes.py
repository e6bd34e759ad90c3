"""Reason codes are defined once, in tr_reason_codes: every code the worker's Python can
write into a report is one of them (the database would fail the order as an invalid
report otherwise)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import trader

CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")
NOT_CODES = {"API_KEY"}  # the suffix of a venue credential's environment variable


def environment_names(tree: ast.AST) -> set[str]:
    """String constants read as environment variable names: not reason codes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("get", "getenv"):
            names |= {a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)}
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            names.add(node.slice.value)
    return names


def codes_in_python() -> dict[str, str]:
    found = {}
    for path in Path(trader.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text())
        skip = environment_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value) \
                    and node.value not in skip | NOT_CODES:
                found[node.value] = path.name
    return found


def test_every_code_the_worker_writes_is_defined_in_the_database(db):
    defined = {r[0] for r in db.execute("SELECT code FROM tr_reason_codes WHERE applies = 'order'").fetchall()}
    found = codes_in_python()
    assert len(found) >= 8, "the scan finds the worker's codes"
    assert {code: where for code, where in found.items() if code not in defined} == {}
