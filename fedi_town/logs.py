"""One logging setup for our loggers and uvicorn's: one record is one line that no peer can
forge, with a timestamp, and nothing secret in it.

    configure_logging(level, form)   the CLI's setup (``cli.main``)
    log_config(level, form)          the same as a ``dictConfig`` dict, for ``uvicorn.Config``

- **One format for every line** (ours, uvicorn's errors and its access lines), chosen by
  ``FEDI_TOWN_LOG_FORMAT``: ``plain`` (``OneLineFormatter``: ``<time> <LEVEL> <logger>:
  <message>``) or ``json`` (``JsonLineFormatter``: one object per line with ``time``,
  ``level``, ``logger`` and ``message``; access lines add ``client``, ``method``, ``path``
  and ``status``). Times are ISO 8601 in UTC with milliseconds (``2026-12-07T04:48:16.123Z``).

- **One line per record.** ``OneLineFormatter`` escapes control characters (``\\r``,
  ``\\n``, ``\\x00``-``\\x1f``, ``\\x7f``) and Unicode line breaks (U+0085, U+2028, U+2029)
  in the final message, whatever put them there (a peer's ``type`` or ``id``, a URL, an
  exception message), so a sender cannot start a line of its own.
- **No tracebacks above DEBUG.** A record with an exception becomes one line ending in the
  exception's class; at DEBUG the traceback follows it (the only multi-line output).
  uvicorn's own "Exception in ASGI application" for an error our app's handler already
  logged and answered (it passed through Starlette's ``ServerErrorMiddleware``) is dropped
  above DEBUG, so an unhandled error is one ERROR line, ours.
- **A cheap access log of our own** (``FEDI_TOWN_ACCESS_LOG=on``; off by default, the
  reverse proxy logs every request already). ``AccessLog`` writes one line per request,
  ``fedi_town.access`` in the same format (plain or JSON) as every other line, with the
  client, method, path, HTTP version, status and duration; lines are written in batches
  (at most ``ACCESS_WRITE_CHARS`` per write, ``ACCESS_FLUSH_S`` seconds late, and at
  shutdown)
  instead of one ``logging`` record and one ``write`` each. uvicorn's own access logger
  stays off under ``fedi-town serve``.
- **No query strings in the access log.** Tokens and resource names travel in queries;
  ``AccessLog`` writes the path only (``DropQueryString`` does the same for uvicorn's).
  httpx's line per outgoing request (full URL, query included) shows only at DEBUG: a
  delivery or a fetch is logged as a decision by the code that makes it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import logging.config
import re
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: the values of ``FEDI_TOWN_LOG_FORMAT``
FORMS = ("plain", "json")

_BREAKS = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ASGI_ERROR = "Exception in ASGI application"
_HANDLED_IN = "starlette/middleware/errors.py"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """``text`` with every control character and line break escaped."""
    return _BREAKS.sub(_escape, text)


def iso_time(record: logging.LogRecord) -> str:
    """When ``record`` was made: ISO 8601, UTC, milliseconds (``2026-12-07T04:48:16.123Z``)."""
    made = datetime.fromtimestamp(record.created, UTC)
    return made.strftime("%Y-%m-%dT%H:%M:%S.") + f"{made.microsecond // 1000:03d}Z"


class OneLineFormatter(logging.Formatter):
    """``FORMAT`` with the message on one line; the traceback only with ``tracebacks``."""

    def __init__(self, fmt: str = FORMAT, datefmt: str | None = None, *, tracebacks: bool = False):
        super().__init__(fmt, datefmt)
        self.tracebacks = tracebacks

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return super().formatTime(record, datefmt) if datefmt else iso_time(record)

    def format(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if record.exc_info and record.exc_info[1] is not None:
            if self.tracebacks:
                return line + "\n" + self.formatException(record.exc_info)
            return f"{line} ({one_line(record.exc_info[1].__class__.__name__)})"
        return line


#: JSON escapes every control character; these line breaks it leaves as they are.
_JSON_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record, on one line: ``time``, ``level``, ``logger``, ``message``
    (and ``error``, the exception's class; ``traceback`` only with ``tracebacks``). An access
    line of uvicorn's also carries its parts as fields (the query already dropped)."""

    def __init__(self, *, tracebacks: bool = False) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": iso_time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            line.update(zip(_ACCESS_FIELDS, args, strict=True))
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = record.exc_info[1].__class__.__name__
            if self.tracebacks:
                line["traceback"] = self.formatException(record.exc_info)
        text = json.dumps(line, ensure_ascii=False, default=str)
        for char, escaped in _JSON_BREAKS.items():
            if char in text:
                text = text.replace(char, escaped)
        return text


class DropQueryString(logging.Filter):
    """Keep only the path of uvicorn's access log requests (queries may carry tokens)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, _, _ = args[2].partition("?")
            record.args = (*args[:2], path, *args[3:])
        return True


#: the logger name of access lines
ACCESS_LOGGER = "fedi_town.access"
#: the most access-line text one write holds (a pipe's atomic write, ``PIPE_BUF``), and how
#: late a line may be written (seconds)
ACCESS_WRITE_CHARS = 4096
ACCESS_FLUSH_S = 0.5


class AccessLog:
    """One line per request, written to ``stream`` in batches (see the module docstring).

    ``request(...)`` formats the line at once (the time is the request's end) and keeps it;
    the batch is written before it would pass ``ACCESS_WRITE_CHARS``, ``ACCESS_FLUSH_S``
    after its first line (a timer on the running event loop), or on ``flush()``. Each write
    holds whole lines and fits a pipe's atomic write, so web processes sharing one stdout
    (``--workers``) do not split each other's lines.
    """

    def __init__(self, stream: Any, form: str = "plain") -> None:
        self.stream = stream
        self.json = form == "json"
        self.lines: list[str] = []
        self.chars = 0
        self._second = -1
        self._stamp = ""
        self._timer: Any = None

    def _time(self, now: float) -> str:
        second = int(now)
        if second != self._second:  # one strftime a second, not one a line
            made = datetime.fromtimestamp(second, UTC)
            self._second, self._stamp = second, made.strftime("%Y-%m-%dT%H:%M:%S.")
        return f"{self._stamp}{int((now - second) * 1000):03d}Z"

    def request(
        self,
        now: float,
        client: str,
        method: str,
        path: str,
        version: str,
        status: int,
        seconds: float,
    ) -> None:
        """Keep the line of one answered request (``now``: epoch seconds at its end)."""
        ms = seconds * 1000
        message = f'{client} - "{method} {path} HTTP/{version}" {status} {ms:.1f}ms'
        if self.json:
            entry = {
                "time": self._time(now),
                "level": "INFO",
                "logger": ACCESS_LOGGER,
                "message": message,
                "client": client,
                "method": method,
                "path": path,
                "http_version": version,
                "status": status,
                "duration_ms": round(ms, 2),
            }
            line = json.dumps(entry, ensure_ascii=False)
            for char, escaped in _JSON_BREAKS.items():
                if char in line:
                    line = line.replace(char, escaped)
        else:
            line = f"{self._time(now)} INFO {ACCESS_LOGGER}: {one_line(message)}"
        line += "\n"
        if self.chars + len(line) > ACCESS_WRITE_CHARS:
            self.flush()
        self.lines.append(line)
        self.chars += len(line)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(ACCESS_FLUSH_S, self.flush)

    def flush(self) -> None:
        """Write the lines kept so far."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.lines:
            text, self.lines, self.chars = "".join(self.lines), [], 0
            self.stream.write(text)
            self.stream.flush()


def _handled_by_starlette(tb: TracebackType | None) -> bool:
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(_HANDLED_IN):
            return True
        tb = tb.tb_next
    return False


class DropLoggedAsgiErrors(logging.Filter):
    """Drop uvicorn's traceback of an error the app's error handler already logged (one
    line) and answered with a 500; keep those that escaped the app some other way."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or str(record.msg).strip() != _ASGI_ERROR:
            return True
        error = record.exc_info[1]
        return error is None or not _handled_by_starlette(error.__traceback__)


def log_config(level: str, form: str = "plain") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of ``level`` for our loggers and uvicorn's, every
    line in ``form`` (``FORMS``)."""
    debug = level.upper() == "DEBUG"
    formatter = JsonLineFormatter if form == "json" else OneLineFormatter
    line = {"()": formatter, "tracebacks": debug}
    error_filters = [] if debug else ["logged_asgi_errors"]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "no_query": {"()": DropQueryString},
            "logged_asgi_errors": {"()": DropLoggedAsgiErrors},
        },
        "formatters": {"line": line},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "filters": ["no_query"],
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.error": {"level": level.upper(), "filters": error_filters},
            "uvicorn.access": {"handlers": ["access"], "level": level.upper(), "propagate": False},
            "httpx": {"level": "DEBUG" if debug else "WARNING"},
            "httpcore": {"level": "DEBUG" if debug else "WARNING"},
        },
        "root": {"handlers": ["default"], "level": level.upper()},
    }


def configure_logging(level: str, form: str = "plain") -> None:
    """Set up every logger of the process for ``level`` and ``form`` (see the module
    docstring)."""
    logging.config.dictConfig(log_config(level, form))
