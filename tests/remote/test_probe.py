"""One GET of our own URL for the doctor, against real servers on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from fedi_town.remote import probe
from tests.live import bind_loopback, serve_app

pytestmark = pytest.mark.anyio


def answering(status: int, body: bytes, content_type: str = "application/json") -> Any:
    """A tiny ASGI app giving every request the same answer."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-type", content_type.encode())]
        if status in {301, 302}:
            headers.append((b"location", b"https://elsewhere.example/"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


@asynccontextmanager
async def server(app: Any) -> AsyncIterator[str]:
    sock = bind_loopback()
    async with serve_app(app, sock):
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


async def test_an_answer_gives_its_status_its_json_and_its_date():
    # Given a server answering JSON
    async with server(answering(200, b'{"links": []}')) as base:
        # When it is probed
        got = await probe.get(f"{base}/.well-known/nodeinfo")
    # Then the status, the JSON object and the Date (uvicorn's, now) are there
    assert got.error is None and got.status == 200
    assert got.document == {"links": []}
    assert got.date is not None
    assert abs(datetime.now(UTC) - got.date) < timedelta(seconds=5)


async def test_a_redirect_is_reported_not_followed():
    async with server(answering(302, b"")) as base:
        got = await probe.get(base + "/")
    assert got.status == 302 and got.location == "https://elsewhere.example/"


async def test_html_is_an_answer_without_a_document():
    async with server(answering(404, b"<h1>Not found</h1>", "text/html")) as base:
        got = await probe.get(base + "/")
    assert got.status == 404 and got.document is None and got.content_type == "text/html"


async def test_a_closed_port_is_connection_refused():
    # Given a port nothing listens on
    sock = bind_loopback()
    port = sock.getsockname()[1]
    sock.close()
    # When it is probed
    got = await probe.get(f"http://127.0.0.1:{port}/")
    # Then there is no status and the reason is said plainly
    assert got.status is None and got.error == "connection refused"


async def test_a_server_that_never_answers_is_a_timeout():
    # Given a socket that accepts connections but never answers
    sock = bind_loopback()
    try:
        got = await probe.get(f"http://127.0.0.1:{sock.getsockname()[1]}/", wait_s=0.3)
    finally:
        sock.close()
    assert got.status is None and got.error == "no answer within 0.3 s"
