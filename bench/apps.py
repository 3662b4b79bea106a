"""The ASGI apps the benchmarks serve, as uvicorn factories (``bench.apps:fedi`` etc.).

- ``fedi``: fedi-town itself, configured from ``FEDI_TOWN_*`` like ``fedi-town serve``.
- ``bare_read``: the ceiling of the read path. One Starlette route per document, each
  answering pre-encoded bytes (body and headers captured from fedi-town) from memory.
- ``bare_asgi``: the harder ceiling of the read path. The same documents answered by a bare
  ASGI callable (no framework): a dict lookup on the path, two ``send`` calls.
- ``bare_verify``: the ceiling of a signed GET. A bare ASGI callable that parses the
  draft-cavage signature of each request with ``fedi_town.protocol.httpsig``, verifies it
  with an already parsed key from a dict (401 otherwise) and answers the captured bytes.
- ``bare_inbox``: the ceiling of the inbox. A Starlette route that reads the body, parses
  the HTTP signature exactly as fedi-town's inbox does, verifies it with an already parsed
  key from a dict, and answers 202. No JSON parsing, no database.

Each bare app also answers ``GET /_bench/ready``. Their inputs come from JSON files named by
``BENCH_BARE_DOCS`` / ``BENCH_BARE_KEYS`` (written by the scripts, read once at start): a
document is ``{"body": base64, "headers": {name: value}}``.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def fedi() -> Starlette:
    from fedi_town.app import create_app
    from fedi_town.services import Services
    from fedi_town.settings import Settings

    services = Services.from_settings(Settings.from_env(os.environ))
    pragma = os.environ.get("BENCH_WHAT_IF_SQLITE_SYNCHRONOUS")
    app = create_app(services.settings, services)
    if pragma:
        started = app.router.lifespan_context
        after_start = _synchronous(pragma)

        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[Any]:
            async with started(app) as state:
                await after_start(services)
                yield state

        app.router.lifespan_context = lifespan
    return app


def _synchronous(mode: str) -> Any:
    """What-if experiment (not fedi-town's behaviour): set SQLite's ``synchronous`` on the
    store's held connections after start, to measure what the default fsync per commit costs."""
    if mode.upper() not in {"NORMAL", "FULL", "OFF"}:
        raise ValueError("BENCH_WHAT_IF_SQLITE_SYNCHRONOUS must be NORMAL, FULL or OFF")

    async def hook(services: Any) -> None:
        store = services.store
        if store.is_sqlite:
            for connection in [store._writer, *store._readers]:
                await connection.execute(f"PRAGMA synchronous={mode.upper()}")

    return hook


async def _ready(request: Request) -> Response:
    return Response(b"ok", media_type="text/plain")


def _document_route(path: str, doc: dict[str, Any]) -> Route:
    body = base64.b64decode(doc["body"])
    headers = dict(doc["headers"])

    async def serve(request: Request) -> Response:
        return Response(body, headers=headers)

    return Route(path, serve, methods=["GET"])


def bare_read() -> Starlette:
    docs: dict[str, dict[str, Any]] = json.loads(Path(os.environ["BENCH_BARE_DOCS"]).read_text())
    routes = [_document_route(path, doc) for path, doc in docs.items()]
    return Starlette(routes=[Route("/_bench/ready", _ready), *routes])


def _encoded(doc: dict[str, Any]) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """A captured document as raw ASGI headers (with its Content-Length) and body."""
    body = base64.b64decode(doc["body"])
    headers = [(k.lower().encode(), str(v).encode()) for k, v in doc["headers"].items()]
    headers.append((b"content-length", str(len(body)).encode()))
    return headers, body


_READY = ([(b"content-type", b"text/plain"), (b"content-length", b"2")], b"ok")
_NOT_FOUND = ([(b"content-length", b"0")], b"")


def bare_asgi() -> Any:
    """The documents of ``BENCH_BARE_DOCS`` from a bare ASGI callable."""
    docs: dict[str, dict[str, Any]] = json.loads(Path(os.environ["BENCH_BARE_DOCS"]).read_text())
    answers = {path: _encoded(doc) for path, doc in docs.items()}
    answers["/_bench/ready"] = _READY

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers, body = answers.get(scope["path"], _NOT_FOUND)
        status = 404 if headers is _NOT_FOUND[0] else 200
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def bare_verify() -> Any:
    """``BENCH_BARE_KEYS``'s document, to a GET whose signature verifies with its keys."""
    from fedi_town.errors import SignatureError
    from fedi_town.protocol import httpsig
    from fedi_town.protocol.keys import load_public_key

    config = json.loads(Path(os.environ["BENCH_BARE_KEYS"]).read_text())
    keys = {key_id: load_public_key(pem) for key_id, pem in config["keys"].items()}
    origin: str = config["origin"]
    host = origin.split("://", 1)[1]
    headers, body = _encoded(config["doc"])
    refused = [(b"content-length", b"0")]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/_bench/ready":
            status, answer, content = 200, _READY[0], _READY[1]
        else:
            status, answer, content = 401, refused, b""
            path = scope["raw_path"].decode("latin-1")
            query = scope["query_string"].decode("latin-1")
            lines = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
            try:
                sig = httpsig.parse_request_signature(
                    scope["method"], f"{path}?{query}" if query else path, lines, b"",
                    origin=origin,
                )  # fmt: skip
                key = keys.get(sig.key_id)
                if key is not None:
                    httpsig.verify_request_signature(
                        sig, key, now=datetime.now(UTC), expected_host=host
                    )
                    status, answer, content = 200, headers, body
            except SignatureError:
                pass
        await send({"type": "http.response.start", "status": status, "headers": answer})
        await send({"type": "http.response.body", "body": content})

    return app


def bare_inbox() -> Starlette:
    from fedi_town.errors import SignatureError
    from fedi_town.protocol import httpsig
    from fedi_town.protocol.keys import load_public_key

    config = json.loads(Path(os.environ["BENCH_BARE_KEYS"]).read_text())
    keys = {key_id: load_public_key(pem) for key_id, pem in config["keys"].items()}
    origin: str = config["origin"]
    host = origin.split("://", 1)[1]

    async def inbox(request: Request) -> Response:
        body = await request.body()
        scope = request.scope
        path = scope["raw_path"].decode("latin-1")
        query = scope["query_string"].decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        try:
            sig = httpsig.parse_request_signature(
                request.method, f"{path}?{query}" if query else path, headers, body, origin=origin
            )
            key = keys.get(sig.key_id)
            if key is None:
                return Response(status_code=401)
            httpsig.verify_request_signature(sig, key, now=datetime.now(UTC), expected_host=host)
        except SignatureError:
            return Response(status_code=401)
        return Response(status_code=202)

    return Starlette(
        routes=[
            Route("/_bench/ready", _ready),
            Route("/inbox", inbox, methods=["POST"]),
            Route("/users/{username}/inbox", inbox, methods=["POST"]),
        ]
    )
