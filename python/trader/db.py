"""Connections to the Trader database.

Money is exact: JSON numbers are loaded as Decimal, never float.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from functools import partial
from typing import Any

import psycopg
from psycopg.types.json import set_json_dumps, set_json_loads

_loads = partial(json.loads, parse_float=Decimal, parse_int=Decimal)


def _exact(value: Any) -> Any:
    # A Decimal goes to JSON as its exact text; the database reads numeric strings
    # exactly, while a float would already have lost the cents.
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


dumps = partial(json.dumps, default=_exact)


def resolve_dsn(dsn: str | None = None) -> str:
    """The explicit DSN, else DATABASE_URL, else "" (libpq then reads PGHOST, PGPORT, ...)."""
    return dsn or os.environ.get("DATABASE_URL", "")


def connect(dsn: str | None = None, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection:
    """A connection whose json/jsonb values come back with Decimal numbers."""
    conn = psycopg.connect(resolve_dsn(dsn), autocommit=autocommit, **kwargs)
    set_json_loads(_loads, conn)
    set_json_dumps(dumps, conn)
    return conn
