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
from psycopg.types.json import set_json_loads

_loads = partial(json.loads, parse_float=Decimal, parse_int=Decimal)


def resolve_dsn(dsn: str | None = None) -> str:
    """The explicit DSN, else DATABASE_URL, else "" (libpq then reads PGHOST, PGPORT, ...)."""
    return dsn or os.environ.get("DATABASE_URL", "")


def connect(dsn: str | None = None, *, autocommit: bool = False, **kwargs: Any) -> psycopg.Connection:
    """A connection whose json/jsonb values come back with Decimal numbers."""
    conn = psycopg.connect(resolve_dsn(dsn), autocommit=autocommit, **kwargs)
    set_json_loads(_loads, conn)
    return conn
