"""Logs that cannot be forged and leak nothing: one line per record, no query strings in
the access log, no traceback above DEBUG. Real uvicorn on loopback, real requests."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.app import _unexpected_handler
from fedi_town.logs import (
    DropQueryString,
    JsonLineFormatter,
    OneLineFormatter,
    log_config,
    one_line,
)
from tests.conftest import ADMIN_TOKEN, KEY_ENCRYPTION_KEY
from tests.live import bind_loopback
from tests.reliability import record

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Put every logger a test configures back as it was (pytest's capture included)."""
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append(
            (logger, logger.handlers[:], logger.filters[:], logger.level, logger.propagate)
        )
    try:
        yield
    finally:
        for logger, handlers, filters, level, propagate in saved:
            logger.handlers[:] = handlers
            logger.filters[:] = filters
            logger.level = level
            logger.propagate = propagate


def format_one(formatter: logging.Formatter, msg: str, *args: Any, exc: Any = None) -> str:
    record = logging.LogRecord("fedi_town.inbound.inbox", logging.INFO, __file__, 1, msg, args, exc)
    return formatter.format(record)


# -- one record, one line -----------------------------------------------------------------

FORGERIES = {
    "CR LF": "x\r\n2026-12-06 12:00:00,000 INFO fedi_town: admin logged in",
    "LF": "x\n2026-12-06 INFO forged",
    "NUL": "x\x00y",
    "escape sequence": "x\x1b[2Jy",
    "DEL": "x\x7fy",
    "NEL U+0085": "x\x85y",
    "line separator U+2028": "x\u2028y",
    "paragraph separator U+2029": "x\u2029y",
    "vertical tab and form feed": "x\x0b\x0cy",
}


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_a_record_with_line_breaks_in_its_args_is_one_escaped_line(case):
    # Given a decision log line whose argument came from a peer
    formatter = OneLineFormatter()
    # When it is formatted
    line = format_one(formatter, "inbox: refused %s from %s", FORGERIES[case], "actor")
    # Then it is one line, with nothing a terminal or a log reader would take as a break
    assert len(line.splitlines()) == 1
    assert not any(ch in line for ch in "\r\n\x00\x1b\x7f\x85\u2028\u2029\x0b\x0c")
    assert "inbox: refused x" in line
    record("logs", f"{case} in a logged value", "one line")


def test_escaped_text_still_reads_as_what_was_sent():
    assert one_line("a\r\nb\x00c\u2028") == "a\\r\\nb\\x00c\\u2028"


def test_an_exception_is_one_line_naming_its_class_unless_debugging():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        exc_info = sys.exc_info()
    quiet = format_one(OneLineFormatter(), "handling failed", exc=exc_info)
    loud = format_one(OneLineFormatter(tracebacks=True), "handling failed", exc=exc_info)
    assert len(quiet.splitlines()) == 1 and quiet.endswith("(ValueError)")
    assert "Traceback" in loud


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_a_json_record_with_line_breaks_in_its_args_is_one_line_reading_as_sent(case):
    # Given a decision log line whose argument came from a peer, as a JSON line
    line = format_one(JsonLineFormatter(), "inbox: refused %s", FORGERIES[case])
    # Then it is one line of JSON whose message is exactly what was logged
    assert len(line.splitlines()) == 1
    assert not any(ch in line for ch in "\r\n\x00\x1b\x85\u2028\u2029\x0b\x0c")
    assert json.loads(line)["message"] == f"inbox: refused {FORGERIES[case]}"


def test_a_json_record_names_its_time_level_logger_and_an_exception_by_class_only():
    try:
        raise ValueError("bad\nvalue with a secret")
    except ValueError:
        exc_info = sys.exc_info()
    quiet = json.loads(format_one(JsonLineFormatter(), "handling failed", exc=exc_info))
    loud = json.loads(format_one(JsonLineFormatter(tracebacks=True), "failed", exc=exc_info))
    assert quiet["level"] == "INFO" and quiet["logger"] == "fedi_town.inbound.inbox"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", quiet["time"])
    assert quiet["error"] == "ValueError" and "secret" not in json.dumps(quiet)
    assert "Traceback" in loud["traceback"]


def test_plain_lines_start_with_an_iso_8601_utc_time():
    line = format_one(OneLineFormatter(), "hello")
    assert PLAIN_LINE.match(line) and line.endswith(" INFO fedi_town.inbound.inbox: hello")


def test_the_access_filter_keeps_the_path_and_drops_the_query():
    access = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/v1/x?token=secret", "1.1", 404),
        None,
    )
    DropQueryString().filter(access)
    assert access.getMessage() == '127.0.0.1:5000 - "GET /api/v1/x HTTP/1.1" 404'


# -- under uvicorn, as served -------------------------------------------------------------


async def boom(request: Request) -> Response:
    raise RuntimeError("kaboom\nwith a forged second line")


async def hello(request: Request) -> Response:
    return Response("hello")


@asynccontextmanager
async def logged_server(level: str) -> AsyncIterator[tuple[str, io.StringIO]]:
    """A small app under uvicorn with ``log_config(level)``, its output in one buffer."""
    out = io.StringIO()
    config = log_config(level)
    for handler in config["handlers"].values():
        handler["stream"] = out
    app = Starlette(
        routes=[Route("/boom", boom), Route("/api/v1/x", hello)],
        exception_handlers={Exception: _unexpected_handler},
    )
    sock = bind_loopback()
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=config, log_level=level.lower(), lifespan="off")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", out
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)
        sock.close()


@pytest.mark.anyio
async def test_the_access_line_of_a_request_with_a_token_in_its_query_has_no_token(
    restored_logging,
):
    async with logged_server("INFO") as (base, out):
        # When a client sends a token in the query string
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{base}/api/v1/x?token=secret")
    # Then the access line names the path and not the token
    assert response.status_code == 200
    [access] = [line for line in out.getvalue().splitlines() if "uvicorn.access" in line]
    assert '"GET /api/v1/x HTTP/1.1" 200' in access
    assert "secret" not in out.getvalue()
    record("logs", "token in a query string", "not logged")


@pytest.mark.anyio
async def test_an_unhandled_exception_is_one_error_line_without_a_traceback_at_info(
    restored_logging,
):
    async with logged_server("INFO") as (base, out):
        # When a route fails with an error nobody expected
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{base}/boom")
    # Then the client gets a 500 problem, and the log has one ERROR line and no traceback
    assert response.status_code == 500
    text = out.getvalue()
    errors = [line for line in text.splitlines() if " ERROR " in line]
    assert len(errors) == 1, text
    assert "RuntimeError" in errors[0]
    assert "Traceback" not in text and "kaboom" not in text
    record("logs", "unhandled exception at INFO", f"{len(errors)} ERROR line")


@pytest.mark.anyio
async def test_an_unhandled_exception_keeps_its_traceback_at_debug(restored_logging):
    async with logged_server("DEBUG") as (base, out):
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{base}/boom")
    assert response.status_code == 500
    assert "Traceback" in out.getvalue()


@pytest.mark.anyio
async def test_every_line_carries_a_timestamp(restored_logging):
    async with logged_server("INFO") as (base, out):
        async with httpx.AsyncClient(timeout=10) as client:
            await client.get(f"{base}/api/v1/x")
    lines = [line for line in out.getvalue().splitlines() if line]
    assert lines and all(line[:4].isdigit() and line[4] == "-" for line in lines)


# -- fedi-town serve, as run --------------------------------------------------------------

FEDI_TOWN = Path(sys.executable).with_name("fedi-town")


PLAIN_LINE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [A-Z]+ ")
PRINTED = ("serving on ", "warning: ")  # the CLI's own words, not log records


def serve_and_log(tmp_path: Path, **settings: str) -> str:
    """Start ``fedi-town serve`` as a user does (with ``settings`` added), send it a token in
    a query and a peer's type with a forged line, stop it; its whole output."""
    sock = bind_loopback()
    port = sock.getsockname()[1]
    sock.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}
    env.update(
        FEDI_TOWN_BASE_URL=f"http://127.0.0.1:{port}",
        FEDI_TOWN_PORT=str(port),
        FEDI_TOWN_DATABASE_URL=f"sqlite:///{tmp_path / 'fedi.sqlite3'}",
        FEDI_TOWN_ADMIN_TOKEN=ADMIN_TOKEN,
        FEDI_TOWN_KEY_ENCRYPTION_KEYS=KEY_ENCRYPTION_KEY,
        FEDI_TOWN_ALLOW_PRIVATE_ADDRESSES="true",
        FEDI_TOWN_MEDIA_DIR=str(tmp_path / "media"),
        **settings,
    )
    process = subprocess.Popen(
        [str(FEDI_TOWN), "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                httpx.get(f"{base}/.well-known/nodeinfo", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        httpx.get(f"{base}/api/v1/x?token=secret", timeout=10)
        forged = {
            "id": f"{base}/a",
            "type": "Like\r\n2026-12-06T12:00:00.000Z INFO forged: line",
            "actor": f"{base}/b",
        }
        httpx.post(
            f"{base}/inbox",
            content=json.dumps(forged),
            headers={"Content-Type": "application/activity+json"},
            timeout=10,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    return output.decode("utf-8", "replace")


def log_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith(PRINTED)]


def test_fedi_town_serve_logs_one_timestamped_line_per_record_and_no_query(tmp_path):
    # Given fedi-town serve started as a user starts it, with the access log on
    # When a client sends a token in a query and a peer a type with a forged line
    text = serve_and_log(tmp_path, FEDI_TOWN_ACCESS_LOG="on")
    # Then the token is nowhere, and every log line is one timestamped record of ours
    assert '"GET /api/v1/x HTTP/1.1" 404' in text
    assert "secret" not in text
    # and the request's line is ours (fedi_town.access), with its duration
    [access] = [line for line in text.splitlines() if "fedi_town.access" in line and "/x " in line]
    assert re.search(r'"GET /api/v1/x HTTP/1\.1" 404 [0-9.]+ms$', access), access
    lines = log_lines(text)
    assert lines and all(PLAIN_LINE.match(line) for line in lines), text
    assert not any(" forged: " in line for line in lines)
    record("logs", "serve: token in a query, CR LF in a type", "not logged, one line")


def test_fedi_town_serve_logs_no_line_per_request_by_default(tmp_path):
    # Given fedi-town serve with no access log setting (the reverse proxy logs requests)
    # When requests come
    text = serve_and_log(tmp_path)
    # Then it logs its own records only, none per request
    assert "fedi_town.access" not in text and "uvicorn.access" not in text
    assert "GET /api/v1/x" not in text
    assert "uvicorn.error" in text  # its start and stop are logged


def test_fedi_town_serve_logs_json_lines_with_time_level_logger_and_message(tmp_path):
    # Given fedi-town serve with JSON log lines and the access log on
    # When a client sends a token in a query and a peer a type with a forged line
    text = serve_and_log(tmp_path, FEDI_TOWN_LOG_FORMAT="json", FEDI_TOWN_ACCESS_LOG="on")
    # Then every log line is one JSON object with an ISO 8601 UTC time, ours and uvicorn's
    records = [json.loads(line) for line in log_lines(text)]
    assert records, text
    for entry in records:
        assert {"time", "level", "logger", "message"} <= entry.keys()
        assert datetime.fromisoformat(entry["time"]).utcoffset() == timedelta(0)
    loggers = {entry["logger"] for entry in records}
    assert {"uvicorn.error", "fedi_town.access"} <= loggers
    # and the request's line carries its parts, without the query, and no token anywhere
    [access] = [
        e for e in records if e["logger"] == "fedi_town.access" and "/api/v1/x" in e["message"]
    ]
    assert (access["method"], access["path"], access["status"]) == ("GET", "/api/v1/x", 404)
    assert access["http_version"] == "1.1" and access["duration_ms"] >= 0
    assert "secret" not in text
    record("logs", "serve JSON: token in a query, CR LF in a type", "not logged, one object")


def test_fedi_town_serve_with_a_bad_log_level_says_so_in_one_line(tmp_path):
    # Given a log level fedi-town does not know
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}
    env["FEDI_TOWN_LOG_LEVEL"] = "verbose"
    # When fedi-town serve starts
    done = subprocess.run(
        [str(FEDI_TOWN), "serve"], env=env, cwd=tmp_path, capture_output=True, timeout=60
    )
    # Then it exits at once with one line naming the variable, the value and the choices
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode().splitlines() == [
        "configuration error: FEDI_TOWN_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, "
        "got 'verbose'"
    ]
