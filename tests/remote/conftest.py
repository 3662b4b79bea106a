"""Real loopback peers for the outbound HTTP layer, and services to fetch with.

``serve(*routes)`` starts a tiny Starlette app on a real uvicorn server on 127.0.0.1 (a free
port, its own thread and event loop) and returns a ``Peer`` that records every request it
received. ``signer`` is a fake ``RequestSigner``: it adds one header naming the scheme, so
tests can see which scheme each request was signed with (signatures are tested elsewhere).

``services`` is ``Services`` over the test store, started as far as fetching needs (an
instance key and a loopback-capable client); ``keys_server`` serves actors and key documents.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.live import bind_loopback, serve_app

SIGNATURE_HEADER = "x-test-signature"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    raw_headers: list[tuple[str, str]]


class _Recording:
    """ASGI middleware keeping the method, path and headers of every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests: list[Seen] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
            self.requests.append(Seen(scope["method"], scope["path"], dict(raw), raw))
        await self.app(scope, receive, send)


@dataclass
class Peer:
    port: int
    recording: _Recording

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def requests(self) -> list[Seen]:
        return self.recording.requests

    def schemes_seen(self) -> list[str | None]:
        return [seen.headers.get(SIGNATURE_HEADER) for seen in self.requests]


@contextmanager
def run_app(app: ASGIApp) -> Iterator[int]:
    """Run ``app`` on 127.0.0.1 in a background thread; yield its port."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_level="warning",
        access_log=False,
        loop="asyncio",
        http="h11",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="loopback-peer", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the loopback server did not start")
        time.sleep(0.01)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.should_exit = True
        server.force_exit = True  # do not wait for handlers a test left hanging
        thread.join(timeout=10)


@pytest.fixture
def serve() -> Iterator[Callable[..., Peer]]:
    """Start loopback peers: ``peer = serve(Route(...), ...)``; stopped after the test."""
    with ExitStack() as stack:

        def start(*routes: BaseRoute) -> Peer:
            recording = _Recording(Starlette(routes=list(routes)))
            port = stack.enter_context(run_app(recording))
            return Peer(port, recording)

        yield start


def inbox_peer(serve: Callable[..., Peer]) -> Peer:
    """A loopback peer whose ``/inbox`` accepts every POST with 202."""

    async def accept(request: Request) -> Response:
        await request.body()
        return Response("{}", status_code=202, media_type="application/json")

    return serve(Route("/inbox", accept, methods=["POST"]))


@dataclass(frozen=True)
class SignCall:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    scheme: str


@dataclass
class FakeSigner:
    calls: list[SignCall] = field(default_factory=list)

    def __call__(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        scheme: Literal["cavage", "rfc9421"],
    ) -> dict[str, str]:
        self.calls.append(SignCall(method, url, dict(headers), body, scheme))
        return {SIGNATURE_HEADER: scheme}


@pytest.fixture
def signer() -> FakeSigner:
    return FakeSigner()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class KeyServer:
    """Serves actors and key documents at http://127.0.0.1:PORT/..."""

    def __init__(self) -> None:
        self.sock = bind_loopback()
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.documents: dict[str, Any] = {}
        self.status: dict[str, int] = {}
        self.app = Starlette(routes=[Route("/{path:path}", self.serve)])

    async def serve(self, request: Request) -> Response:
        path = request.url.path
        if path in self.status:
            return Response(status_code=self.status[path])
        if path not in self.documents:
            return Response(status_code=404)
        return Response(json.dumps(self.documents[path]), media_type="application/activity+json")

    def actor(self, name: str, keys: list[dict[str, Any]] | dict[str, Any]) -> str:
        uri = f"{self.base}/users/{name}"
        self.documents[f"/users/{name}"] = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": uri,
            "type": "Person",
            "inbox": f"{uri}/inbox",
            "preferredUsername": name,
            "publicKey": keys,
        }
        return uri


@pytest.fixture
async def keys_server() -> AsyncIterator[KeyServer]:
    server = KeyServer()
    async with serve_app(server.app, server.sock):
        yield server
