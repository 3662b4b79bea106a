"""Running the app under uvicorn with the bounds uvicorn lacks: request time and body memory.

    run_server(app, settings)   what ``fedi-town serve`` runs

**Access log** (``FEDI_TOWN_ACCESS_LOG=on``, at log level INFO or DEBUG): ``AccessLogged``
times each HTTP request and hands its line to ``logs.AccessLog`` (method, path without the
query, status, duration; written in batches), in place of uvicorn's access logger, which
made a ``logging`` record and a ``write`` per request.

**Request time** (``settings.request_timeout``). uvicorn only bounds the idle time between
requests (``timeout_keep_alive``); a client that sends its headers a byte at a time, or
stops half-way through its body, holds its connection (and the memory of what it sent) for
ever. ``deadline_protocol`` makes a subclass of uvicorn's HTTP protocol (httptools, which
``uvicorn[standard]`` installs and we run; h11 works the same) with one timer per request,
started when the connection is made and when a request's first byte arrives:

- *Headers* not complete when it fires: the connection is closed (nothing can be answered
  to a request whose headers never came).
- *Body*: each piece only notes the time. A body that has not moved for
  ``request_timeout`` when the timer fires gets ``408`` (if nothing was answered yet) and
  the connection is closed; the app sees the client as gone. A slow but steady client is
  never cut: the time counts from its last piece, not from the request's start.

Doing this in the protocol costs the inbox's path nothing: the timer is the one the headers
needed anyway, and no ASGI layer waits on a timeout per ``receive()``.

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
import contextlib
import logging
import socket
import sys
import time
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from fedi_town.errors import ProblemError, ServiceUnavailable
from fedi_town.lifecycle import settle_heap
from fedi_town.logs import AccessLog, log_config
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


def _declared_length(scope: Scope) -> int | None:
    """The body length the request declares: ``Content-Length``; 0 when it declares no
    body at all (neither that nor ``Transfer-Encoding``: an HTTP/1.1 request then has
    none, RFC 9112 section 6.3, as every GET); None when the length is unknown until read
    (chunked) or unreadable (the app answers 400)."""
    length: int | None = 0
    for name, value in scope["headers"]:
        if name == b"transfer-encoding":
            return None  # it overrides any Content-Length
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
    return length


class BoundedApp:
    """ASGI wrapper: large bodies share ``budget`` (503 with Retry-After past it)."""

    def __init__(self, app: ASGIApp, *, budget: BodyBudget) -> None:
        self.app = app
        self.budget = budget

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is None:
            await self._counted(scope, receive, send)
            return
        if declared <= SMALL_BODY_BYTES:  # the common case (every GET): nothing to do
            await self.app(scope, receive, send)
            return
        if not self.budget.take(declared):
            self.over_budget()
            if declared <= DRAIN_AT_MOST_BYTES:
                await self._drain(receive)  # so the client reads the 503, not a reset
            await _answer(send, _budget_problem())
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.budget.give_back(declared)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A body of unknown length (chunked): its bytes are taken as they come."""
        request = _Counted(self, receive, send)
        try:
            await self.app(scope, request.receive, request.send)
        finally:
            self.budget.give_back(request.taken)

    async def _drain(self, receive: Receive) -> None:
        """Read and drop a refused body, a piece at a time (nothing is kept); the protocol's
        deadline bounds a stall."""
        more = True
        while more:
            message = await receive()
            more = message["type"] == "http.request" and bool(message.get("more_body"))

    def over_budget(self) -> None:
        log.warning("request refused: large bodies over the %d-byte budget", self.budget.limit)


def _budget_problem() -> ServiceUnavailable:
    return ServiceUnavailable(
        "the server holds too many large requests; try again shortly",
        retry_after=BUDGET_RETRY_AFTER_S,
    )


class _Counted:
    """One chunked request's ``receive``, taking its bytes from the budget past
    ``SMALL_BODY_BYTES``, and its ``send``, muted once this wrapper answered 503 instead."""

    def __init__(self, owner: BoundedApp, receive: Receive, send: Send) -> None:
        self.owner = owner
        self._receive = receive
        self._send = send
        self.seen = 0  # body bytes received
        self.taken = 0  # of them, held in the budget
        self.started = False
        self.answered = False

    async def receive(self) -> Message:
        if self.answered:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > SMALL_BODY_BYTES:
                more = self.seen - self.taken
                if not self.owner.budget.take(more):
                    self.owner.over_budget()
                    if not self.started:
                        self.started = True
                        await _answer(self._send, _budget_problem())
                    self.answered = True
                    return {"type": "http.disconnect"}
                self.taken += more
        return message

    async def send(self, message: Message) -> None:
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


async def _answer(send: Send, problem: ProblemError) -> None:
    """Answer ``problem`` and close the connection."""
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
        (b"connection", b"close"),
    ]
    retry_after = getattr(problem, "retry_after", None)
    if retry_after is not None:
        headers.append((b"retry-after", str(int(retry_after)).encode()))
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _timeout_answer() -> bytes:
    """The raw 408 a protocol writes for a stalled body (no ASGI app is involved)."""
    body = dumps(
        {
            "type": "about:blank",
            "title": "Request Timeout",
            "status": 408,
            "detail": "the request body stopped arriving",
        }
    )
    return (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/problem+json\r\n"
        + f"content-length: {len(body)}\r\n".encode()
        + b"connection: close\r\n\r\n"
        + body
    )


_TIMEOUT_ANSWER = _timeout_answer()


class _Deadline:
    """Mixin for uvicorn's HTTP protocols: the request deadlines of ``request_timeout``.

    The deadline runs from when the connection is made or a request's first byte arrives.
    Until the headers are complete the connection is closed once it passes. Then, while
    the body arrives, each piece only notes the time; a body that moved within
    ``request_timeout``, or that we stopped reading ourselves (uvicorn's flow control, the
    app being busy), gets the rest of the time; a stalled one is answered 408 (if nothing
    was answered yet) and closed.

    Requests only note the time: one timer per connection looks when it fires, and sets
    itself again for what is left of a request under way; a connection between requests
    lets it lapse (uvicorn's keep-alive timeout closes an idle one), and the next request
    sets it. A timer made and cancelled per request cost ~2-3 us of a ~40 us cached GET.
    """

    request_timeout: float = 15.0
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    flow: Any
    cycle: Any
    _deadline: asyncio.TimerHandle | None = None
    _in_request = False  # a request's first byte arrived, its body is not all in
    _in_body = False
    _started = 0.0  # when the request (or the connection, for the first) began
    _progress = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]  # the protocol's, by MRO
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._in_request = False
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm(self) -> None:
        """A request begins (or the connection, awaiting its first): its deadline runs."""
        if not self._in_request:  # the first request keeps the connection's start
            self._in_request = True
            self._in_body = False
            self._started = self.loop.time()
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._expired)

    def _body_started(self) -> None:
        self._in_request = True
        self._in_body = True
        self._progress = self.loop.time()
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._expired)

    def _disarm(self) -> None:
        """The request is all in: no deadline until the next one (the timer lapses)."""
        self._in_request = False

    def _expired(self) -> None:
        self._deadline = None
        if not self._in_request or self.transport.is_closing():
            return
        if self._in_body:
            now = self.loop.time()
            if self.flow.read_paused:
                self._progress = now  # we are not reading: not the client's stall
            if now - self._progress < self.request_timeout:
                wait = self._progress + self.request_timeout - now
                self._deadline = self.loop.call_later(wait, self._expired)
                return
            log.info("request body stalled for %ss: closing", self.request_timeout)
            if self.cycle is not None and not self.cycle.response_started:
                self.transport.write(_TIMEOUT_ANSWER)
        else:
            left = self._started + self.request_timeout - self.loop.time()
            if left > 0:  # set for an earlier request: this one has time left
                self._deadline = self.loop.call_later(left, self._expired)
                return
            log.info("request headers incomplete after %ss: closing", self.request_timeout)
        self.transport.close()


class _H11Deadline(_Deadline, H11Protocol):
    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm()
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._body_started()
        elif state is not h11.IDLE:
            self._disarm()


class _HttpToolsDeadline(_Deadline, HttpToolsProtocol):
    def on_message_begin(self) -> None:
        self._arm()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._body_started()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._progress = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()


def deadline_protocol(request_timeout: float, implementation: str = "httptools") -> type[Any]:
    """uvicorn's HTTP protocol class (``"httptools"``, what ``uvicorn[standard]`` installs
    and ``fedi-town serve`` runs, or ``"h11"``) with the header deadline set to
    ``request_timeout`` seconds."""
    base: type[Any] = _H11Deadline if implementation == "h11" else _HttpToolsDeadline
    return type(base.__name__, (base,), {"request_timeout": float(request_timeout)})


def bounded(app: ASGIApp, settings: Settings, budget: BodyBudget | None = None) -> BoundedApp:
    """``app`` with the body budget (``budget``, else a new one)."""
    return BoundedApp(app, budget=budget or BodyBudget())


class AccessLogged:
    """ASGI wrapper: one ``AccessLog`` line per HTTP request, when its answer is sent; the
    lines kept are written when the app has shut down (uvicorn then ends the process by
    the signal it caught, so nothing after ``server.run`` would run)."""

    def __init__(self, app: ASGIApp, log: AccessLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._flushing(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            client = scope.get("client")
            self.log.request(
                time.time(),
                f"{client[0]}:{client[1]}" if client else "-",
                scope["method"],
                scope["path"],
                scope.get("http_version", "1.1"),
                status or 500,  # nothing was answered: uvicorn answers 500
                time.perf_counter() - started,
            )

    def _flushing(self, send: Send) -> Send:
        async def flushing_send(message: Message) -> None:
            if message["type"].startswith("lifespan.shutdown"):
                self.log.flush()
            await send(message)

        return flushing_send


def access_log(settings: Settings) -> AccessLog | None:
    """The access log ``settings`` ask for (on, at INFO or DEBUG), or None."""
    if not settings.access_log or settings.log_level.upper() not in ("DEBUG", "INFO"):
        return None
    return AccessLog(sys.stdout, settings.log_format)


def server_config(
    app: ASGIApp, settings: Settings, *, access: AccessLog | None = None, **extra: Any
) -> uvicorn.Config:
    """The uvicorn configuration ``fedi-town serve`` runs with (tests start the same);
    ``access``: where request lines go (``access_log(settings)``), None for none."""
    served: ASGIApp = bounded(app, settings)
    if access is not None:
        served = AccessLogged(served, access)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "proxy_headers": True,
        "server_header": False,
        "http": deadline_protocol(settings.request_timeout),
        # ours instead (AccessLogged), when FEDI_TOWN_ACCESS_LOG is on
        "access_log": False,
    }
    options.update(extra)
    return uvicorn.Config(served, **options)


#: Exit status when the server could not start (as ``uvicorn.run``'s).
STARTUP_FAILURE = 3


def run_server(
    app: ASGIApp, settings: Settings, sockets: list[socket.socket] | None = None
) -> None:
    """Serve ``app`` until stopped, with the request deadlines and the body budget; exit
    with ``STARTUP_FAILURE`` if it could not start. With ``sockets`` (one of
    ``supervisor``'s children), accept on those instead of binding ``settings.host:port``."""
    lines = log_config(settings.log_level, settings.log_format)
    access = access_log(settings)
    config = server_config(app, settings, access=access, log_config=lines)
    server = uvicorn.Server(config)
    settle_heap()  # the app is built: what it holds is never garbage
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn has shut down already
            server.run(sockets=sockets)
    finally:
        if access is not None:
            access.flush()  # the last lines kept
    if not server.started:
        sys.exit(STARTUP_FAILURE)
