"""The server's own bounds: request deadlines (headers, body) and the shared body budget,
on a real uvicorn server on loopback, with raw sockets that trickle or stall."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from fedi_town import serving
from fedi_town.app import create_app
from fedi_town.logs import AccessLog
from fedi_town.services import Services
from fedi_town.settings import Settings
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.faults.conftest import free_port, serve, serve_env
from tests.live import bind_loopback
from tests.reliability import record

pytestmark = pytest.mark.anyio

TIMEOUT = 2  # seconds: the request_timeout of these tests
PROTOCOLS = ["httptools", "h11"]


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, answers its length."""
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = str(size).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextlib.asynccontextmanager
async def serve_config(config: uvicorn.Config, sock: Any) -> AsyncIterator[None]:
    """Run a uvicorn server of ``config`` on ``sock`` until the block ends."""
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve(sockets=[sock]))
    while not instance.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        instance.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


@contextlib.asynccontextmanager
async def server(
    protocol: str, budget: serving.BodyBudget | None = None
) -> AsyncIterator[tuple[str, int]]:
    settings = Settings(database_url="sqlite:///unused", request_timeout=TIMEOUT)
    sock = bind_loopback()
    config = uvicorn.Config(
        serving.bounded(echo, settings, budget),  # type: ignore[arg-type]
        http=serving.deadline_protocol(TIMEOUT, protocol),
        lifespan="off",
        log_level="warning",
    )
    async with serve_config(config, sock):
        yield sock.getsockname()[:2]


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """Everything the server sends until it closes the connection (fails after ``seconds``)."""
    return await asyncio.wait_for(reader.read(), timeout=seconds)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_connection_that_sends_nothing_is_closed_after_the_timeout(protocol):
    async with server(protocol) as (host, port):
        # Given a client that connects and says nothing
        reader, writer = await asyncio.open_connection(host, port)
        # Then the server closes the connection once the timeout has passed
        assert await closed_within(reader, TIMEOUT * 5) == b""
        writer.close()
        record("serving", f"silent connection ({protocol})", "closed")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_headers_trickled_a_byte_at_a_time_are_cut_at_the_timeout(protocol):
    async with server(protocol) as (host, port):
        # Given a slowloris client: the request line, then a header a byte every 0.2 s
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"POST /inbox HTTP/1.1\r\nHost: x\r\n")
        loop = asyncio.get_running_loop()
        started = loop.time()
        closed = False
        # When it goes on trickling for up to five timeouts
        while loop.time() - started < TIMEOUT * 5:
            try:
                writer.write(b"X")
                await writer.drain()
            except ConnectionError:
                closed = True
                break
            with contextlib.suppress(TimeoutError):
                if await asyncio.wait_for(reader.read(1), timeout=0.2) == b"":
                    closed = True
                    break
        # Then the server has closed the connection, never answering
        writer.close()
        record("serving", f"slowloris headers ({protocol})", "closed" if closed else "held")
        assert closed


async def answered_once(
    host: str, port: int, request: bytes, answer: bytes
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A kept-alive connection whose first ``request`` was answered 200 ``answer``."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request)
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
    assert await reader.readexactly(len(answer)) == answer
    return reader, writer


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_second_request_on_a_kept_alive_connection_gets_the_same_deadline(protocol):
    async with server(protocol) as (host, port):
        # Given a client whose first request was answered
        request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi"
        reader, writer = await answered_once(host, port, request, b"2")
        # When it starts a second request and never finishes its headers
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\n")
        # Then the connection is closed once the timeout has passed
        assert await closed_within(reader, TIMEOUT * 5) == b""
        writer.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_later_request_gets_its_whole_deadline_not_what_an_earlier_one_left(protocol):
    async with server(protocol) as (host, port):
        # Given a connection whose first request was answered at once
        reader, writer = await answered_once(host, port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"0")
        loop = asyncio.get_running_loop()
        # When, 0.6 of the timeout later, a second request stops halfway through its headers
        await asyncio.sleep(TIMEOUT * 0.6)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\n")
        started = loop.time()
        # Then it is still open when the first request's deadline would have passed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader.read(1), timeout=TIMEOUT * 0.7)
        assert not reader.at_eof()
        # And it is closed once its own deadline has passed
        assert await closed_within(reader, TIMEOUT * 5) == b""
        assert loop.time() - started >= TIMEOUT * 0.9
        writer.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_body_that_stops_arriving_gets_408_and_the_connection_closed(protocol):
    async with server(protocol) as (host, port):
        # Given a client that promises 100 bytes and sends 10
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789")
        # Then after the timeout it is answered 408 and the connection closed
        answer = await closed_within(reader, TIMEOUT * 5)
        writer.close()
        record("serving", f"stalled body ({protocol})", answer[9:12].decode() or "closed")
        assert answer.startswith(b"HTTP/1.1 408")
        assert b"application/problem+json" in answer
        assert b"connection: close" in answer.lower()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_slow_but_steady_body_is_never_cut(protocol):
    async with server(protocol) as (host, port):
        # Given a client sending its 12-byte body a byte every 0.25 s (3 s in all,
        # longer than the timeout, but never pausing for as long as it)
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n")
        for _ in range(12):
            await asyncio.sleep(0.25)
            writer.write(b"x")
            await writer.drain()
        # Then the whole body is read and answered
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=TIMEOUT * 5)
        assert head.startswith(b"HTTP/1.1 200")
        assert await reader.readexactly(2) == b"12"
        writer.close()


def test_the_body_budget_lets_a_lone_request_in_and_refuses_past_its_limit():
    budget = serving.BodyBudget(limit=100)
    assert budget.take(150)  # alone: always fits
    assert not budget.take(10)
    budget.give_back(150)
    assert budget.take(60) and budget.take(40) and not budget.take(1)


async def hold_150_kb(
    host: str, port: int, budget: serving.BodyBudget
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client that declared a 150 KB body and sent 10 bytes of it: the budget holds it."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 153600\r\n\r\n" + b"x" * 10)
    await writer.drain()
    while budget.held == 0:
        await asyncio.sleep(0.01)
    return reader, writer


async def test_large_bodies_over_the_budget_get_503_while_small_ones_pass():
    # Given a budget of 200 KB, and a client holding 150 KB of it (its body half sent)
    budget = serving.BodyBudget(limit=200 * 1024)
    async with server("httptools", budget) as (host, port):
        holder_r, holder_w = await hold_150_kb(host, port, budget)
        # When another client declares a 100 KB body
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 102400\r\n\r\n")
        writer.write(b"y" * 102400)
        answer = await closed_within(reader, 10)
        # Then it is told to come back shortly (its body read and dropped, not kept)
        record("serving", "large bodies over the body budget", answer[9:12].decode())
        assert answer.startswith(b"HTTP/1.1 503")
        assert b"retry-after: 5" in answer.lower()
        # And a small request still passes
        small_r, small_w = await asyncio.open_connection(host, port)
        small_w.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        assert (await small_r.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        # And once the holder finishes, its share is given back
        holder_w.write(b"x" * (153600 - 10))
        assert (await holder_r.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        assert await holder_r.readexactly(6) == b"153600"
        while budget.held:
            await asyncio.sleep(0.01)
        for w in (holder_w, writer, small_w):
            w.close()


async def test_a_chunked_body_shares_the_budget_as_it_arrives():
    # Given a budget of 200 KB, and a client holding 150 KB of it (its body half sent)
    budget = serving.BodyBudget(limit=200 * 1024)
    async with server("httptools", budget) as (host, port):
        holder_r, holder_w = await hold_150_kb(host, port, budget)
        # When another client sends 100 KB chunked (no length declared up front)
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(10):
            writer.write(b"2800\r\n" + b"y" * 0x2800 + b"\r\n")
        writer.write(b"0\r\n\r\n")
        answer = await closed_within(reader, 10)
        # Then it is refused once its bytes pass the small-body allowance, like a declared one
        assert answer.startswith(b"HTTP/1.1 503")
        assert b"retry-after: 5" in answer.lower()
        assert budget.refused == 1
        # And a small chunked body, and a GET (no body at all), pass
        small_r, small_w = await asyncio.open_connection(host, port)
        small_w.write(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        small_w.write(b"5\r\nhello\r\n0\r\n\r\n")
        assert (await small_r.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        assert await small_r.readexactly(1) == b"5"
        small_w.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await small_r.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        assert await small_r.readexactly(1) == b"0"
        holder_w.write(b"x" * (153600 - 10))
        assert (await holder_r.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        for w in (holder_w, writer, small_w):
            w.close()


@pytest.mark.parametrize(
    ("headers", "declared"),
    [
        ([], 0),
        ([(b"content-length", b"12")], 12),
        ([(b"transfer-encoding", b"chunked")], None),
        ([(b"content-length", b"12"), (b"transfer-encoding", b"chunked")], None),
        ([(b"content-length", b"twelve")], None),
    ],
)
def test_the_declared_body_length_reads_the_framing_headers(headers, declared):
    # A request with neither header has no body (every GET): nothing to count
    assert serving._declared_length({"headers": headers}) == declared


@pytest.mark.parametrize("path", ["/inbox", "/api/v1/businesses"])
async def test_the_app_served_as_fedi_town_serve_answers_a_stalled_body_408_quietly(
    database_url, tmp_path, path, caplog
):
    # Given the whole app, configured as ``fedi-town serve`` runs it, with a 2 s timeout
    sock = bind_loopback()
    port = sock.getsockname()[1]
    settings = make_settings(
        database_url, tmp_path, base_url=f"http://127.0.0.1:{port}", request_timeout=TIMEOUT
    )
    config = serving.server_config(
        create_app(settings, Services.from_settings(settings)), settings, log_level="warning"
    )
    async with serve_config(config, sock):
        # When a client (the admin, for the admin API) sends half of a JSON body and stops
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode()
            + f"Authorization: Bearer {ADMIN_TOKEN}\r\n".encode()
            + b"Content-Type: application/activity+json\r\nContent-Length: 40\r\n\r\n"
            + b'{"type": "Fol'
        )
        answer = await closed_within(reader, TIMEOUT * 5)
        writer.close()
    # Then it gets 408 and the connection is closed, and nothing is logged as an error
    assert answer.startswith(b"HTTP/1.1 408")
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_fedi_town_serve_closes_a_slowloris_connection(database_url, tmp_path):
    # Given ``fedi-town serve`` running with a request timeout of 1 s
    port = free_port()
    env = serve_env(database_url, tmp_path, port, FEDI_TOWN_REQUEST_TIMEOUT="1")
    async with serve(env, tmp_path / "serve.log"):
        # When a client sends a request line and then a header a byte every 0.2 s
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed = False
        for _ in range(50):  # 10 s at most
            try:
                writer.write(b"X")
                await writer.drain()
                if await asyncio.wait_for(reader.read(1), timeout=0.2) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except ConnectionError:
                closed = True
                break
        writer.close()
    # Then the server has closed the connection
    record("serving", "slowloris headers (fedi-town serve)", "closed" if closed else "held")
    assert closed


async def test_a_client_is_not_cut_while_the_app_is_busy_and_not_reading_its_body():
    # Given an app that takes twice the timeout before it reads a body
    async def busy(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(TIMEOUT * 2)
        await echo(scope, receive, send)

    settings = Settings(database_url="sqlite:///unused", request_timeout=TIMEOUT)
    sock = bind_loopback()
    config = uvicorn.Config(
        serving.bounded(busy, settings),  # type: ignore[arg-type]
        http=serving.deadline_protocol(TIMEOUT),
        lifespan="off",
        log_level="warning",
    )
    async with serve_config(config, sock):
        # When a client sends a 1 MB body at once (more than uvicorn buffers unread)
        reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n")
        writer.write(b"x" * 1_048_576)
        # Then it is answered in full: the pause was the server's, not the client's
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=TIMEOUT * 5)
        assert head.startswith(b"HTTP/1.1 200")
        assert await reader.readexactly(7) == b"1048576"
        writer.close()


@pytest.mark.parametrize("form", ["plain", "json"])
async def test_the_access_log_writes_a_line_per_request_with_its_status_and_duration(
    database_url, tmp_path, form
):
    # Given the whole app served as ``fedi-town serve`` runs it, with the access log on
    sock = bind_loopback()
    port = sock.getsockname()[1]
    settings = make_settings(database_url, tmp_path, base_url=f"http://127.0.0.1:{port}")
    out = io.StringIO()
    access = AccessLog(out, form)
    app = create_app(settings, Services.from_settings(settings))
    config = serving.server_config(app, settings, access=access, log_level="warning")
    async with serve_config(config, sock):
        # When a client fetches NodeInfo twice (the second from the fast path's cache) and
        # a missing path with a token in its query
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(2):
                assert (await client.get("/.well-known/nodeinfo")).status_code == 200
            assert (await client.get("/nowhere%0D%0Aforged?token=secret")).status_code == 404
    access.flush()
    # Then there is one line per request, with method, path (no query), status, duration
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert "secret" not in out.getvalue()
    if form == "json":
        entries = [json.loads(line) for line in lines]
        assert [(e["method"], e["path"], e["status"]) for e in entries] == [
            ("GET", "/.well-known/nodeinfo", 200),
            ("GET", "/.well-known/nodeinfo", 200),
            ("GET", "/nowhere\r\nforged", 404),
        ]
        assert all(e["logger"] == "fedi_town.access" and e["duration_ms"] >= 0 for e in entries)
    else:
        pattern = (
            r'Z INFO fedi_town\.access: 127\.0\.0\.1:\d+ - "GET (\S+) HTTP/1\.1" (\d+) [0-9.]+ms$'
        )
        found = [re.search(pattern, line) for line in lines]
        assert all(found), lines
        assert [(m[1], m[2]) for m in found if m] == [
            ("/.well-known/nodeinfo", "200"),
            ("/.well-known/nodeinfo", "200"),
            ("/nowhere\\r\\nforged", "404"),  # the line break escaped: one line
        ]


async def test_access_lines_are_written_in_batches_of_whole_lines_and_soon():
    # Given an access log writing to a stream that records each write
    writes: list[str] = []

    class Stream:
        def write(self, text: str) -> None:
            writes.append(text)

        def flush(self) -> None:
            pass

    access = AccessLog(Stream())
    # When a hundred requests end at once
    for i in range(100):
        access.request(1_765_000_000.25, "127.0.0.1:1", "GET", f"/n/{i}", "1.1", 200, 0.001)
    # Then they are written in a few writes of whole lines, none over a pipe's atomic size
    assert 1 < len(writes) < 10
    assert all(len(w) <= 4096 and w.endswith("\n") for w in writes)
    # and the rest follows within the flush delay, without another request
    await asyncio.sleep(0.8)
    lines = "".join(writes).splitlines()
    assert len(lines) == 100 and lines[-1].endswith('"GET /n/99 HTTP/1.1" 200 1.0ms')
    assert lines[0].startswith("2025-12-06T05:46:40.250Z INFO fedi_town.access: ")


def test_the_access_log_is_off_by_default_and_below_info(tmp_path):
    # Given the settings as shipped, and the access log on at WARNING
    shipped = Settings.from_env({})
    quiet = Settings.from_env({"FEDI_TOWN_ACCESS_LOG": "on", "FEDI_TOWN_LOG_LEVEL": "WARNING"})
    loud = Settings.from_env({"FEDI_TOWN_ACCESS_LOG": "on", "FEDI_TOWN_LOG_FORMAT": "json"})
    # Then only the last logs requests, in its own format
    assert serving.access_log(shipped) is None and serving.access_log(quiet) is None
    made = serving.access_log(loud)
    assert made is not None and made.json
