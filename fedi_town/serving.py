"""Running the app under uvicorn with the bounds uvicorn lacks: request time and body memory.

    run_server(app, settings)   what ``fedi-town serve`` runs

**Request time** (``settings.request_timeout``). uvicorn only bounds the idle time between
requests (``timeout_keep_alive``); a client that sends its headers a byte at a time, or
stops half-way through its body, holds its connection (and the memory of what it sent) for
ever. So:

- *Headers*: ``deadline_protocol`` makes a subclass of uvicorn's HTTP protocol (httptools,
  which ``uvicorn[standard]`` installs and we run; h11 works the same) that starts a
  timer when a connection is made and when a new request's first byte arrives, and stops it
  when the request's headers are complete. When it fires, the connection is closed (nothing
  can be answered to a request whose headers never came).
- *Body*: ``BoundedApp`` waits for each piece of a body at most ``request_timeout``. A
  client that stalls gets ``408`` (if nothing was answered yet) with ``Connection: close``,
  and the app sees the client as gone. A slow but steady client is never cut: the time
  counts from its last piece, not from the request's start.

**Body memory** (``BODY_BUDGET_BYTES``). Every body is read into memory whole (JSON is
parsed whole; an upload is decoded whole), and its parsing costs a few times its size. A
budget shared by the process's requests bounds what large bodies hold at once: a request
declaring more than ``SMALL_BODY_BYTES`` takes its ``Content-Length`` from the budget until
its response is sent. When the budget cannot cover it, its body is read and dropped a piece
at a time (nothing kept) and it gets ``503`` with ``Retry-After``. A body without
``Content-Length`` (chunked) takes its bytes as they come. Small bodies (every signed
activity of ordinary size) are never counted. The budget is one integer: no lock, no await,
on the inbox's path.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from fedi_town.errors import ProblemError, ServiceUnavailable
from fedi_town.logs import log_config
from fedi_town.settings import Settings
from fedi_town.web import dumps

log = logging.getLogger(__name__)

#: Bodies up to this size are never counted against the budget (an ordinary activity).
SMALL_BODY_BYTES = 64 * 1024
#: Large bodies held at once by one process, at most. An accepted 1 MB activity costs
#: about 7 MB before it is handled (its text, parsed JSON, the store's parameters, the
#: worker's copy), so this keeps a burst of large ones near 120 MB over the base.
BODY_BUDGET_BYTES = 16 * 1024 * 1024
#: A refused body up to this size is read and dropped before the 503, so the client reads
#: the answer instead of a reset connection; a larger one is cut off.
DRAIN_AT_MOST_BYTES = 16 * 1024 * 1024
#: Retry-After of a 503 for the body budget (seconds).
BUDGET_RETRY_AFTER_S = 5


class BodyBudget:
    """Bytes of large bodies this process holds; ``take`` refuses past ``limit``."""

    def __init__(self, limit: int = BODY_BUDGET_BYTES) -> None:
        self.limit = limit
        self.held = 0
        #: requests refused for the budget (for tests and logs)
        self.refused = 0

    def take(self, size: int) -> bool:
        """Hold ``size`` more bytes if they fit (a lone request always fits)."""
        if self.held and self.held + size > self.limit:
            self.refused += 1
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the app answers 400
    return None


class BoundedApp:
    """ASGI wrapper: a stalled body gets 408, and large bodies share ``budget``."""

    def __init__(self, app: ASGIApp, *, timeout: float, budget: BodyBudget) -> None:
        self.app = app
        self.timeout = timeout
        self.budget = budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        held = 0
        if declared is not None and declared > SMALL_BODY_BYTES:
            if not self.budget.take(declared):
                self.over_budget()
                if declared <= DRAIN_AT_MOST_BYTES:
                    await self._drain(receive)  # so the client reads the 503, not a reset
                await _answer(send, _budget_problem(), close=True)
                return
            held = declared
        request = _Request(self, receive, send, counted=declared is None)
        try:
            await self.app(scope, request.receive, request.send)
        finally:
            self.budget.give_back(held + request.taken)

    async def _drain(self, receive: Receive) -> None:
        """Read and drop a refused body, a piece at a time (nothing is kept), each piece
        within the deadline."""
        more = True
        while more:
            try:
                async with asyncio.timeout(self.timeout):
                    message = await receive()
            except TimeoutError:
                return
            more = message["type"] == "http.request" and bool(message.get("more_body"))

    def over_budget(self) -> None:
        log.warning("request refused: large bodies over the %d-byte budget", self.budget.limit)


def _budget_problem() -> ServiceUnavailable:
    return ServiceUnavailable(
        "the server holds too many large requests; try again shortly",
        retry_after=BUDGET_RETRY_AFTER_S,
    )


class _RequestTimeout(ProblemError):
    status = 408
    title = "Request Timeout"


class _Request:
    """One request's ``receive`` with a deadline per piece, and its ``send``, muted once
    this wrapper has answered in the app's place."""

    def __init__(self, owner: BoundedApp, receive: Receive, send: Send, *, counted: bool):
        self.owner = owner
        self._receive = receive
        self._send = send
        self.counted = counted  # no Content-Length: take bytes as they come
        self.seen = 0  # body bytes received (counted requests)
        self.taken = 0  # of them, held in the budget
        self.started = False
        self.answered = False  # we answered instead of the app
        self.body_done = False

    async def receive(self) -> Message:
        if self.answered:
            return {"type": "http.disconnect"}
        if self.body_done:
            return await self._receive()  # waiting for a disconnect: no deadline
        try:
            async with asyncio.timeout(self.owner.timeout):
                message = await self._receive()
        except TimeoutError:
            log.info("request body stalled for %ss: closing", self.owner.timeout)
            await self._answer_instead(_RequestTimeout("the request body stopped arriving"))
            return {"type": "http.disconnect"}
        if message["type"] == "http.request":
            self.body_done = not message.get("more_body", False)
            if self.counted:
                self.seen += len(message.get("body", b""))
                if self.seen > SMALL_BODY_BYTES:
                    more = self.seen - self.taken
                    if not self.owner.budget.take(more):
                        self.owner.over_budget()
                        await self._answer_instead(_budget_problem())
                        return {"type": "http.disconnect"}
                    self.taken += more
        return message

    async def send(self, message: Message) -> None:
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)

    async def _answer_instead(self, problem: ProblemError) -> None:
        if not self.started:
            self.started = True
            await _answer(self._send, problem, close=True)
        self.answered = True


async def _answer(send: Send, problem: ProblemError, *, close: bool) -> None:
    body = dumps(
        {
            "type": "about:blank",
            "title": problem.title,
            "status": problem.status,
            "detail": problem.detail,
        }
    )
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    retry_after = getattr(problem, "retry_after", None)
    if retry_after is not None:
        headers.append((b"retry-after", str(int(retry_after)).encode()))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _HeaderDeadline:
    """Mixin for uvicorn's HTTP protocols: close a connection whose request headers are not
    complete ``request_timeout`` seconds after the connection or the request began."""

    request_timeout: float = 15.0
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    _deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            log.info("request headers incomplete after %ss: closing", self.request_timeout)
            self.transport.close()


class _H11Deadline(_HeaderDeadline, H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()


class _HttpToolsDeadline(_HeaderDeadline, HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        self._arm()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()


def deadline_protocol(request_timeout: float, implementation: str = "httptools") -> type[Any]:
    """uvicorn's HTTP protocol class (``"httptools"``, what ``uvicorn[standard]`` installs
    and ``fedi-town serve`` runs, or ``"h11"``) with the header deadline set to
    ``request_timeout`` seconds."""
    base: type[Any] = _H11Deadline if implementation == "h11" else _HttpToolsDeadline
    return type(base.__name__, (base,), {"request_timeout": float(request_timeout)})


def bounded(app: ASGIApp, settings: Settings, budget: BodyBudget | None = None) -> BoundedApp:
    """``app`` with the body deadline and the body budget of ``settings``."""
    return BoundedApp(app, timeout=settings.request_timeout, budget=budget or BodyBudget())


def server_config(app: ASGIApp, settings: Settings, **extra: Any) -> uvicorn.Config:
    """The uvicorn configuration ``fedi-town serve`` runs with (tests start the same)."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "proxy_headers": True,
        "server_header": False,
        "http": deadline_protocol(settings.request_timeout),
    }
    options.update(extra)
    return uvicorn.Config(bounded(app, settings), **options)


#: Exit status when the server could not start (as ``uvicorn.run``'s).
STARTUP_FAILURE = 3


def run_server(app: ASGIApp, settings: Settings) -> None:
    """Serve ``app`` until stopped, with the request deadlines and the body budget; exit
    with ``STARTUP_FAILURE`` if it could not start."""
    config = server_config(app, settings, log_config=log_config(settings.log_level))
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
