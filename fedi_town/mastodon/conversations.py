"""Direct conversations of a business, as Mastodon's ``/api/v1/conversations``.

    GET    /api/v1/conversations              read:statuses        newest message first
    POST   /api/v1/conversations/{id}/read    write:conversations  answers the Conversation
    DELETE /api/v1/conversations/{id}         write:conversations  hidden until a new message

A conversation is a thread of direct messages: the business's own direct posts and the
direct notes that reached it (``store.conversations``), grouped by following
``inReplyTo`` among them; its id is its first message's. It is unread while its newest
message is someone else's and newer than where the business read it. Deleting hides it
until a newer message arrives (as Mastodon re-creates it). Paging is by the newest
message's id (``max_id``, ``since_id``, ``min_id``), as Mastodon pages them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import remote_account
from fedi_town.mastodon.paging import page_of, paged
from fedi_town.mastodon.reactions import mark, status_of
from fedi_town.protocol.ids import path_id
from fedi_town.services import Services
from fedi_town.store import actors
from fedi_town.store import conversations as store
from fedi_town.store.businesses import Business

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


@dataclass(frozen=True)
class Thread:
    id: int
    #: newest first
    messages: list[store.Message]

    @property
    def last(self) -> store.Message:
        return self.messages[0]


def threads(messages: list[store.Message]) -> list[Thread]:
    """Group direct messages (newest first) into threads by ``inReplyTo``; newest thread
    first. A message whose parent is not among them starts a thread."""
    by_uri = {m.uri: m for m in messages}
    root_of: dict[str, int] = {}

    def root(message: store.Message) -> int:
        seen: list[str] = []
        current = message
        while current.uri not in root_of:
            seen.append(current.uri)
            parent = by_uri.get(current.in_reply_to or "")
            if parent is None or parent.uri in seen:
                root_of[current.uri] = current.id
                break
            current = parent
        found = root_of[current.uri]
        for uri in seen:
            root_of[uri] = found
        return found

    grouped: dict[int, list[store.Message]] = {}
    for message in messages:
        grouped.setdefault(root(message), []).append(message)
    found = [Thread(key, items) for key, items in grouped.items()]
    return sorted(found, key=lambda t: t.last.id, reverse=True)


async def _visible(services: Services, business: Business) -> tuple[list[Thread], dict[int, Any]]:
    marks = await store.marks(services.store, business.id)
    shown = [
        t
        for t in threads(await store.messages(services.store, business.id))
        if t.last.id > (marks[t.id].hidden_through if t.id in marks else 0)
    ]
    return shown, marks


async def _entity(
    services: Services, business: Business, thread: Thread, marks: dict[int, Any]
) -> dict[str, Any]:
    read_through = marks[thread.id].read_through if thread.id in marks else 0
    accounts: dict[int, dict[str, Any]] = {}
    for message in thread.messages:
        found = []
        if message.actor_id is not None:
            found.append(await actors.by_id(services.store, message.actor_id))
        for uri in message.mentions:
            found.append(await actors.by_uri(services.store, uri))
        for actor in found:
            if actor is not None and actor.id not in accounts:
                accounts[actor.id] = remote_account(services, actor)
    last = await status_of(services, business, str(thread.last.id))
    await mark(services, business, [last])
    return {
        "id": str(thread.id),
        "unread": thread.last.actor_id is not None and thread.last.id > read_through,
        "accounts": list(accounts.values()),
        "last_status": last,
    }


@endpoint("read:statuses")
async def list_conversations(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    page = page_of(params.query(request), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    shown, marks = await _visible(services, business)
    if page.max_id is not None:
        shown = [t for t in shown if t.last.id < page.max_id]
    newer_than = page.min_id if page.min_id is not None else page.since_id
    if newer_than is not None:
        shown = [t for t in shown if t.last.id > newer_than]
        if page.min_id is not None:  # the ones right after it, still newest first
            shown = shown[-page.limit :]
    shown = shown[: page.limit]
    items = [await _entity(services, business, t, marks) for t in shown]
    return paged(services, "/api/v1/conversations", page, items, [t.last.id for t in shown])


async def _thread(request: Request, grant: Grant | None) -> tuple[Services, Business, Thread]:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    wanted = path_id(str(request.path_params["id"]), "conversation")
    shown, _marks = await _visible(services, business)
    for thread in shown:
        if thread.id == wanted:
            return services, business, thread
    raise NotFound("Record not found")


@endpoint("write:conversations")
async def read(request: Request, grant: Grant | None) -> Response:
    services, business, thread = await _thread(request, grant)
    await store.mark_read(services.store, business.id, thread.id, thread.last.id)
    marks = await store.marks(services.store, business.id)
    return json(await _entity(services, business, thread, marks))


@endpoint("write:conversations")
async def remove(request: Request, grant: Grant | None) -> Response:
    services, business, thread = await _thread(request, grant)
    await store.hide(services.store, business.id, thread.id, thread.last.id)
    return json({})


routes = [
    Route("/api/v1/conversations", list_conversations, methods=["GET"]),
    Route("/api/v1/conversations/{id}/read", read, methods=["POST"]),
    Route("/api/v1/conversations/{id}", remove, methods=["DELETE"]),
]
