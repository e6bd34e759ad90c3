"""Connections to the Trader database.

Money is exact: JSON numbers are loaded as Decimal, never float.
"""

from __future__ import annotations

import json
import os
import re
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
    """A connection whose json/jsonb values come back with Decimal numbers. A failure
    no retry can fix (login, database, connection string) raises ConfigurationError."""
    try:
        conn = psycopg.connect(resolve_dsn(dsn), autocommit=autocommit, **kwargs)
    except psycopg.Error as exc:
        config = connect_configuration_error(exc)
        if config is not None:
            raise config from exc
        raise
    set_json_loads(_loads, conn)
    set_json_dumps(dumps, conn)
    return conn


# Errors ---------------------------------------------------------------------------

class ConfigurationError(Exception):
    """Something no retry can fix (credentials, database, DSN, deployment, options):
    the command says what is wrong and what to do, on one line, and exits 2."""

    def __init__(self, what: str, message: str, hint: str | None = None, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.what = what
        self.message = message
        self.hint = hint
        self.sqlstate = sqlstate

    def one_line(self) -> str:
        line = f"{self.what}: {self.message}"
        if self.sqlstate:
            line += f" (SQLSTATE {self.sqlstate})"
        if self.hint:
            line += f" hint: {self.hint}"
        return " ".join(line.split())


# SQLSTATEs a retry can outlast: the connection broke, the server is shutting down,
# starting up or out of resources, or a transaction lost a race.
TRANSIENT_SQLSTATE_CLASSES = ("08", "53")
TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57P05", "40001", "40P01", "55P03"})

# SQLSTATEs that say the configuration is wrong: every retry would fail the same way.
CONFIGURATION_SQLSTATES: dict[str, tuple[str, str]] = {
    "28P01": ("the database refused the login", "check the password (--dsn, DATABASE_URL or PGPASSWORD)"),
    "28000": ("the database refused the login", "check the user (--dsn, DATABASE_URL or PGUSER) and pg_hba.conf"),
    "3D000": ("no such database", "check the database name (--dsn, DATABASE_URL or PGDATABASE)"),
    "42501": ("the database role lacks a privilege",
              "connect as tr_worker (or a role granted it), or deploy the module's grants"),
    "42883": ("the Trader module is not deployed in this database, or is older than this program",
              "deploy it: sqitch deploy --verify db:pg://<user>@<host>:<port>/<database>"),
    "42P01": ("the Trader module is not deployed in this database, or is older than this program",
              "deploy it: sqitch deploy --verify db:pg://<user>@<host>:<port>/<database>"),
}

# A failed connection attempt carries no SQLSTATE (libpq keeps only the text), so
# the server's and libpq's messages are mapped to the SQLSTATE they stand for.
_CONNECT_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"password authentication failed|no password supplied"), "28P01"),
    (re.compile(r'no pg_hba\.conf entry|role ".*" does not exist'), "28000"),
    (re.compile(r'database ".*" does not exist'), "3D000"),
)
_BAD_ADDRESS = re.compile(r"Name or service not known|Servname not supported|invalid port|invalid integer value")


def error_message(exc: psycopg.Error) -> str:
    """The error's own words on one line, without libpq's connection preamble."""
    primary = exc.diag.message_primary if exc.pgresult is not None else None
    text = (primary or str(exc).strip() or type(exc).__name__).split("\n")[0]
    for marker in ("FATAL:", "fe_sendauth:", "connection failed:"):
        text = text.split(marker, 1)[-1]
    return " ".join(text.split())


def configuration_error(exc: psycopg.Error) -> ConfigurationError | None:
    """The ConfigurationError a database error stands for, or None if it is not one."""
    sqlstate = exc.sqlstate
    if sqlstate is not None and sqlstate.startswith("28") and sqlstate not in CONFIGURATION_SQLSTATES:
        sqlstate = "28000"
    if sqlstate not in CONFIGURATION_SQLSTATES:
        return None
    what, hint = CONFIGURATION_SQLSTATES[sqlstate]
    return ConfigurationError(what, error_message(exc), hint, exc.sqlstate)


def connect_configuration_error(exc: psycopg.Error) -> ConfigurationError | None:
    """configuration_error for a failed connection attempt, whose SQLSTATE libpq does
    not keep: read from the message instead."""
    if isinstance(exc, psycopg.ProgrammingError):
        # libpq's parser refused the connection string before any connection was tried.
        return ConfigurationError("malformed connection string", error_message(exc),
                                  "--dsn and DATABASE_URL take a libpq key=value string or a postgresql:// URI")
    text = str(exc)
    if _BAD_ADDRESS.search(text):
        return ConfigurationError("cannot connect to the database", error_message(exc),
                                  "check the host and port (--dsn, DATABASE_URL or PGHOST/PGPORT)")
    for pattern, sqlstate in _CONNECT_MESSAGES:
        if pattern.search(text):
            what, hint = CONFIGURATION_SQLSTATES[sqlstate]
            return ConfigurationError(what, error_message(exc), hint, sqlstate)
    return configuration_error(exc)


def is_transient(exc: BaseException) -> bool:
    """True for database errors a retry can outlast: a refused or broken connection,
    a server shutting down or starting up, a lost race. Configuration errors never are."""
    if not isinstance(exc, psycopg.Error) or configuration_error(exc) is not None:
        return False
    if exc.sqlstate is None:
        # No SQLSTATE: the connection failed or broke on the client side.
        return isinstance(exc, psycopg.OperationalError)
    return exc.sqlstate in TRANSIENT_SQLSTATES or exc.sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES
