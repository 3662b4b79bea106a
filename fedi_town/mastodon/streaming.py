"""Mastodon's streaming API: what happens, pushed to a connected app as it happens.

    GET /api/v1/streaming/health             "OK" (no token)
    GET /api/v1/streaming/user               server-sent events (SSE) of one stream; also
    GET /api/v1/streaming/user/notification  /public, /public/local, /public/remote (empty:
    GET /api/v1/streaming/public/local       no posts from elsewhere are kept) and their
                                             /media forms, /hashtag and /hashtag/local
                                             (?tag=), and /api/v1/streaming?stream=...
    WS  /api/v1/streaming                    WebSocket: ?stream=…&access_token=…, then
                                             {"type": "subscribe"|"unsubscribe",
                                              "stream": "user", "tag": …} messages

Events are Mastodon's: ``update`` (a post of the business, a post or boost of an account it
follows reaching its home timeline, unless that account or the booster is muted or
blocked; on the public streams a public post of the instance), ``status.update``
(edited), ``delete`` (the id) and ``notification``; the payload is a JSON string (SSE:
``event:`` and ``data:`` lines; WS: ``{"stream": [...], "event": ..., "payload": "..."}``).
A comment line (``:thump``) goes every ``HEARTBEAT_S`` so proxies and apps know the
connection lives; the token is checked again then, so a revoked one ends its streams.

Every stream wants a token (as Mastodon's): ``read``, or ``read:statuses``
(``read:notifications`` for ``user:notification``). A bad token is 401; a token without the
scope is 401 too, with Mastodon's "Access token does not have the required scopes"
(Mastodon's streaming server answers 401 there, not the REST API's 403); an unknown stream
is 400 "Unknown stream type" (over WebSocket, an ``{"error", "status"}`` message and the
connection stays); an unknown path is the API's 404. One token holds at most
``MAX_PER_TOKEN`` connections of a process (429 past it).

**Across processes.** The writes store each event in their own transaction
(``store.stream_events``). Each web process has one ``Hub`` that, while some app is
connected, reads the events of the last ``LOOKBACK_MS`` every ``POLL_S`` and at once when a
transaction of its own process stored one (``effects.StreamEvent``), and hands each event
it has not seen yet to its connections. So an event made by the worker or by another web
process (several processes on PostgreSQL) reaches an app connected to any of them, within
a poll; the look-back catches a transaction that committed after a later one was read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from fedi_town.errors import (
    BadRequest,
    ProblemError,
    TooManyRequests,
    Unauthorized,
)
from fedi_town.mastodon.auth import (
    Grant,
    bearer,
    grant_for,
    grant_of_token,
    problem_as_error,
)
from fedi_town.mastodon.entities import business_account, post_status
from fedi_town.mastodon.notifications import notification
from fedi_town.mastodon.reactions import entry_status, mark
from fedi_town.mastodon.scopes import covers
from fedi_town.services import Services
from fedi_town.store import businesses, moderation, stream_events
from fedi_town.store import media as media_store
from fedi_town.store import mutes as mute_store
from fedi_town.store import notifications as notification_store
from fedi_town.store import posts as post_store
from fedi_town.store import timeline as timeline_store
from fedi_town.store.businesses import Business
from fedi_town.store.effects import StreamEvent
from fedi_town.store.stream_events import Event

log = logging.getLogger(__name__)

#: Seconds between heartbeats (and token checks) on an idle connection.
HEARTBEAT_S = 30.0
#: Seconds between two reads of the events table while some app is connected.
POLL_S = 1.0
#: How far back each read looks (ms): a transaction committing this much after it stored
#: its event is still seen.
LOOKBACK_MS = 15_000
#: Connections one token may hold on one process.
MAX_PER_TOKEN = 8
#: Events waiting for a slow connection before it is closed.
QUEUE_SIZE = 256

USER_STREAMS = ("user", "user:notification")
PUBLIC_STREAMS = (
    "public",
    "public:media",
    "public:local",
    "public:local:media",
    "public:remote",
    "public:remote:media",
)
HASHTAG_STREAMS = ("hashtag", "hashtag:local")
#: SSE paths under /api/v1/streaming → the stream they name.
PATHS = {
    "user": "user",
    "user/notification": "user:notification",
    "public": "public",
    "public/media": "public:media",
    "public/local": "public:local",
    "public/local/media": "public:local:media",
    "public/remote": "public:remote",
    "public/remote/media": "public:remote:media",
    "hashtag": "hashtag",
    "hashtag/local": "hashtag:local",
}


@dataclass(frozen=True)
class Channel:
    """One stream a connection listens to: its name, and the hashtag of a hashtag stream."""

    name: str
    tag: str | None = None

    def label(self) -> list[str]:
        """The ``stream`` list Mastodon puts in each message."""
        return [self.name, self.tag] if self.tag is not None else [self.name]


def channel_for(grant: Grant, name: str, tag: str | None) -> Channel:
    """The channel ``name`` asks for, checked against the grant (400 unknown or without its
    tag; 401 without the scope, or a user stream with an app's own token)."""
    if name not in USER_STREAMS + PUBLIC_STREAMS + HASHTAG_STREAMS:
        raise BadRequest("Unknown stream type")
    needed = "read:notifications" if name == "user:notification" else "read:statuses"
    if not covers(grant.scopes, needed):
        raise Unauthorized("Access token does not have the required scopes")
    if name in USER_STREAMS and grant.business is None:
        raise Unauthorized("Access token does not have the required scopes")
    if name in HASHTAG_STREAMS:
        tag = (tag or "").lstrip("#").strip()
        if not tag or len(tag) > 100:
            raise BadRequest("Missing tag name parameter")
        return Channel(name, tag.casefold())
    return Channel(name)


@dataclass(eq=False)
class Connection:
    """One connected app: its grant, the channels it listens to, what waits to be sent."""

    grant: Grant
    token: str
    channels: set[Channel] = field(default_factory=set)
    queue: asyncio.Queue[tuple[list[str], str, str] | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )

    def put(self, item: tuple[list[str], str, str] | None) -> None:
        """Queue a message; a connection too slow to keep up is ended instead."""
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.channels.clear()
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class Hub:
    """This process's connections, and the one reader of the events table that feeds them
    (running only while some connection is open)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.connections: set[Connection] = set()
        self.per_token: Counter[int] = Counter()
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.seen: dict[int, int] = {}
        services.store.on_commit(StreamEvent, lambda _effect: self.wake.set())

    def join(self, grant: Grant, token: str) -> Connection:
        """A new connection of ``grant`` (429 past ``MAX_PER_TOKEN``)."""
        if self.per_token[grant.token_id] >= MAX_PER_TOKEN:
            raise TooManyRequests("Too many streaming connections for this token", retry_after=30)
        connection = Connection(grant, token)
        self.connections.add(connection)
        self.per_token[grant.token_id] += 1
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._read(self.services.now_ms()))
        return connection

    def leave(self, connection: Connection) -> None:
        if connection in self.connections:
            self.connections.discard(connection)
            self.per_token[connection.grant.token_id] -= 1
            if self.per_token[connection.grant.token_id] <= 0:
                del self.per_token[connection.grant.token_id]
        if not self.connections and self.task is not None:
            self.task.cancel()
            self.task = None

    async def _read(self, started: int) -> None:
        """Read new events and hand them out until the last connection leaves."""
        while self.connections:
            self.wake.clear()
            now = self.services.now_ms()
            try:
                found = await stream_events.recent(
                    self.services.store, since=max(started, now - LOOKBACK_MS)
                )
                for event in found:
                    if event.id not in self.seen:
                        self.seen[event.id] = event.created_at
                        await self._hand_out(event)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database away a moment: try again at the next poll
                log.warning("streaming: reading events failed: %s", exc.__class__.__name__)
            horizon = now - 2 * LOOKBACK_MS
            self.seen = {k: at for k, at in self.seen.items() if at >= horizon}
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), POLL_S)

    async def _hand_out(self, event: Event) -> None:
        """Send ``event`` to each connection listening for it, rendered for its business."""
        if event.event == "timeline":
            await self._hand_out_entry(event)
            return
        rendered: dict[int | None, str | None] = {}
        post = None
        if event.event != "notification" and event.event != "delete":
            post = await post_store.by_id_any(self.services.store, event.ref_id)
            if post is None or post.deleted_at is not None:
                return
        for connection in list(self.connections):
            viewer = connection.grant.business
            for channel in list(connection.channels):
                if not await self._wants(channel, viewer, event, post):
                    continue
                key = viewer.id if viewer is not None else None
                if key not in rendered:
                    rendered[key] = await self._payload(event, viewer, post)
                payload = rendered[key]
                if payload is not None:
                    connection.put((channel.label(), event.event, payload))

    async def _hand_out_entry(self, event: Event) -> None:
        """A followed account's post or boost on the business's home timeline: ``update``
        on its ``user`` streams, as ``GET /api/v1/timelines/home`` shows it; nothing when
        the author or booster is muted or blocked (as the timeline leaves them out)."""
        listening = [
            (connection, channel)
            for connection in list(self.connections)
            if connection.grant.business is not None
            and connection.grant.business.id == event.business_id
            for channel in list(connection.channels)
            if channel.name == "user"
        ]
        if not listening:
            return
        services = self.services
        store = services.store
        entry = await timeline_store.entry_by_id(store, event.business_id, event.ref_id)
        if entry is None:
            return
        muted = await mute_store.muted_uris(store, event.business_id, now=services.now_ms())
        blocks = await moderation.block_list(store)
        actors = [entry.author] + ([entry.booster] if entry.booster is not None else [])
        if any(a.uri in muted or blocks.first(a.uri, event.business_id) for a in actors):
            return
        status = entry_status(services, entry)
        status["id"] = str(timeline_store.status_id(entry))
        viewer = listening[0][0].grant.business
        assert viewer is not None
        await mark(services, viewer, [status])
        payload = jsonlib.dumps(status)
        for connection, channel in listening:
            connection.put((channel.label(), "update", payload))

    async def _wants(
        self, channel: Channel, viewer: Business | None, event: Event, post: Any
    ) -> bool:
        name = channel.name
        if name in USER_STREAMS:
            mine = viewer is not None and viewer.id == event.business_id
            return mine and (name == "user" or event.event == "notification")
        if event.event == "notification" or not event.public or name.startswith("public:remote"):
            return False
        if name.endswith(":media") and post is not None and not await _has_media(self, post):
            return False
        if channel.tag is not None:
            if post is None:  # a delete: the post is gone, and so are its hashtags
                return True
            return channel.tag in {t.casefold() for t in post.hashtags}
        return True

    async def _payload(self, event: Event, viewer: Business | None, post: Any) -> str | None:
        services = self.services
        if event.event == "delete":
            return str(event.ref_id)
        if event.event == "notification":
            if viewer is None:
                return None
            rows = await notification_store.page(
                services.store,
                viewer.id,
                limit=1,
                max_id=event.ref_id + 1,
                types=list(notification_store.TYPES),
                dismissed=False,
                muted_at=services.now_ms(),
            )
            if not rows or int(rows[0]["id"]) != event.ref_id:
                return None
            account = await business_account(services, viewer)
            found = await notification(services, viewer, rows[0], account)
            if found is None:
                return None
            if found.get("status"):
                await mark(services, viewer, [found["status"]])
            return jsonlib.dumps(found)
        owner = await businesses.by_id(services.store, event.business_id)
        if owner is None or owner.deleted_at is not None:
            return None
        account = await business_account(services, owner)
        status = await post_status(services, owner, post, account=account)
        if viewer is not None:
            await mark(services, viewer, [status])
        return jsonlib.dumps(status)


async def _has_media(hub: Hub, post: Any) -> bool:
    return bool(await media_store.of_post(hub.services.store, post.id))


def hub_of(services: Services) -> Hub:
    return services.parts.get(Hub, lambda: Hub(services))


def _token(connection: HTTPConnection) -> str | None:
    """The token as Mastodon's streaming server takes it: the ``Authorization`` header,
    the ``access_token`` query parameter, or a WebSocket's ``Sec-WebSocket-Protocol``."""
    found = bearer(connection) or connection.query_params.get("access_token")
    if not found:
        found = connection.headers.get("sec-websocket-protocol", "").strip() or None
    return found


async def _grant(connection: HTTPConnection, services: Services) -> tuple[Grant, str]:
    token = _token(connection)
    if token is None:
        raise Unauthorized("Missing access token")
    grant = await grant_for(connection, services, token)
    assert grant is not None
    return grant, token


async def health(request: Request) -> Response:
    """Whether the streaming API is up (Mastodon's health check)."""
    return PlainTextResponse("OK", headers={"Cache-Control": "private, no-store"})


async def sse(request: Request) -> Response:
    """One stream as server-sent events: the one its path names, or ``?stream=``."""
    services: Services = request.app.state.services
    rest = request.url.path.removeprefix("/api/v1/streaming").strip("/")
    name = PATHS.get(rest, "") if rest else request.query_params.get("stream", "")
    hub = hub_of(services)
    try:
        grant, token = await _grant(request, services)
        channel = channel_for(grant, name, request.query_params.get("tag"))
        connection = hub.join(grant, token)
    except ProblemError as exc:
        return problem_as_error(exc)
    connection.channels.add(channel)
    headers = {"Cache-Control": "private, no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(
        _events(services, hub, connection), media_type="text/event-stream", headers=headers
    )


async def _next(services: Services, connection: Connection) -> tuple[list[str], str, str] | None:
    """The next message for ``connection``: None when it must end (too slow, or its token
    revoked), an empty stream list for a heartbeat (the token is checked again then)."""
    try:
        return await asyncio.wait_for(connection.queue.get(), HEARTBEAT_S)
    except TimeoutError:
        if await grant_of_token(services, connection.token) is None:
            return None
        return ([], "", "")


async def _events(services: Services, hub: Hub, connection: Connection) -> AsyncIterator[str]:
    try:
        yield ":)\n\n"
        while True:
            message = await _next(services, connection)
            if message is None:
                return
            stream, event, payload = message
            if not stream:
                yield ":thump\n\n"
                continue
            data = "\n".join(f"data: {line}" for line in payload.split("\n"))
            yield f"event: {event}\n{data}\n\n"
    finally:
        hub.leave(connection)


async def websocket_stream(websocket: WebSocket) -> None:
    """The streams over one WebSocket, subscribed and unsubscribed by messages."""
    services: Services = websocket.app.state.services
    hub = hub_of(services)
    try:
        grant, token = await _grant(websocket, services)
        connection = hub.join(grant, token)
    except ProblemError as exc:
        await _refuse(websocket, exc)
        return
    try:
        offered = websocket.headers.get("sec-websocket-protocol", "").strip()
        await websocket.accept(subprotocol=offered if offered == token else None)
        first = websocket.query_params.get("stream")
        if first:
            await _subscribe(websocket, connection, first, websocket.query_params.get("tag"))
        async with asyncio.TaskGroup() as group:
            reader = group.create_task(_read_messages(websocket, connection))
            await _write_messages(services, websocket, connection)
            reader.cancel()
    except* (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.leave(connection)
        with contextlib.suppress(Exception):
            await websocket.close()


async def _refuse(websocket: WebSocket, exc: ProblemError) -> None:
    """Refuse the upgrade with Mastodon's status and body when the server can send an HTTP
    answer to a WebSocket request; else close it at once (policy violation)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(problem_as_error(exc))
    else:
        await websocket.close(code=1008, reason=exc.detail[:120])


async def _subscribe(
    websocket: WebSocket, connection: Connection, name: str, tag: str | None
) -> None:
    try:
        connection.channels.add(channel_for(connection.grant, name, tag))
    except ProblemError as exc:
        await websocket.send_text(jsonlib.dumps({"error": exc.detail, "status": exc.status}))


async def _read_messages(websocket: WebSocket, connection: Connection) -> None:
    """Subscribe and unsubscribe as the app asks; a message that is not one is answered
    with an error message."""
    while True:
        text = await websocket.receive_text()
        try:
            message = jsonlib.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict) or message.get("type") not in (
            "subscribe",
            "unsubscribe",
        ):
            error = {"error": "Unknown message", "status": 400}
            await websocket.send_text(jsonlib.dumps(error))
            continue
        name = str(message.get("stream") or "")
        tag = message.get("tag")
        tag = str(tag) if tag is not None else None
        if message["type"] == "subscribe":
            await _subscribe(websocket, connection, name, tag)
        else:
            wanted = (tag or "").lstrip("#").casefold() or None
            connection.channels.discard(Channel(name, wanted))


async def _write_messages(services: Services, websocket: WebSocket, connection: Connection) -> None:
    while True:
        message = await _next(services, connection)
        if message is None:
            return
        stream, event, payload = message
        if stream:
            body = {"stream": stream, "event": event, "payload": payload}
            await websocket.send_text(jsonlib.dumps(body))


routes: list[BaseRoute] = [
    Route("/api/v1/streaming/health", health, methods=["GET", "HEAD"]),
    WebSocketRoute("/api/v1/streaming", websocket_stream),
    Route("/api/v1/streaming", sse, methods=["GET"]),
    *[Route(f"/api/v1/streaming/{path}", sse, methods=["GET"]) for path in PATHS],
]
