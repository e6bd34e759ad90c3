"""Structured logging on stderr: one JSON object per line (for collectors), or one
readable line per event (for terminals). An event's name says what happened; its
fields carry the particulars. A traceback is a field of its own, and only at debug
level: at any other level a log line is always one line."""

from __future__ import annotations

import json
import logging
import sys
import time
from decimal import Decimal
from typing import Any

FORMATS = ("json", "text")


def _timestamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _fields(record: logging.LogRecord, with_traceback: bool, formatter: logging.Formatter) -> dict[str, Any]:
    fields: dict[str, Any] = dict(getattr(record, "fields", {}))
    if record.exc_info and with_traceback:
        fields["traceback"] = formatter.formatException(record.exc_info)
    return fields


class JsonFormatter(logging.Formatter):
    def __init__(self, with_traceback: bool = False) -> None:
        super().__init__()
        self.with_traceback = with_traceback

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"ts": _timestamp(record), "level": record.levelname.lower(), "event": record.getMessage()}
        entry.update(_fields(record, self.with_traceback, self))
        return json.dumps(entry, default=_plain)


class TextFormatter(logging.Formatter):
    """`ts level event key=value ...`; a value with spaces or quotes is JSON-quoted, and
    a traceback (debug only) follows on its own lines."""

    def __init__(self, with_traceback: bool = False) -> None:
        super().__init__()
        self.with_traceback = with_traceback

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record, self.with_traceback, self)
        trace = fields.pop("traceback", None)
        pairs = " ".join(f"{key}={_text(value)}" for key, value in fields.items())
        line = f"{_timestamp(record)} {record.levelname.lower():<7} {record.getMessage()} {pairs}".rstrip()
        return f"{line}\n{trace}" if trace else line


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _text(value: Any) -> str:
    if isinstance(value, str) and value and not any(c in value for c in ' "=\n'):
        return value
    return json.dumps(value, default=_plain)


def setup(level: str = "info", fmt: str = "json") -> None:
    debug = level.lower() == "debug"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter(debug) if fmt == "text" else JsonFormatter(debug))
    root = logging.getLogger("trader")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Logs `name` with `fields` as keys of the JSON line."""
    logger.log(level, name, extra={"fields": fields})
