"""Accept and Reject of follows: the activities a business sends back to a follower.

Both embed the Follow as it was received (interop §4: Mastodon matches the embedded id, else
``type`` + ``object.actor``) and go to the follower's personal inbox. Call inside the
transaction that changes the follow, so the answer is sent if and only if the change
sticks; the transaction then carries a ``Wake`` for the worker.
"""

from __future__ import annotations

from typing import Any, Protocol

from fedi_town.protocol import activities
from fedi_town.protocol.documents import Document
from fedi_town.services import Services
from fedi_town.store import outbox
from fedi_town.store.actors import RemoteActor
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id
from fedi_town.store.social import Follow


def follow_object(follow: Follow, business: Business, actor: RemoteActor, urls: Any) -> Any:
    """The Follow to embed: as received, or rebuilt from what we stored."""
    if follow.follow_document:
        return follow.follow_document
    rebuilt: dict[str, Any] = {
        "type": "Follow",
        "actor": actor.uri,
        "object": urls.actor(business.username),
    }
    if follow.follow_uri:
        rebuilt["id"] = follow.follow_uri
    return rebuilt


class _Answer(Protocol):
    """``activities.accept`` or ``activities.reject``."""

    def __call__(self, *, id: str, actor: str, follow: Any) -> Document: ...


async def _send(
    services: Services,
    build: _Answer,
    business: Business,
    actor: RemoteActor,
    follow: Any,
) -> str:
    urls = services.urls
    now = services.now_ms()
    uri = urls.activity(business.username, new_id(now))
    body = build(id=uri, actor=urls.actor(business.username), follow=follow)
    inbox = actor.inbox or actor.shared_inbox
    await outbox.enqueue(
        services.store,
        business_id=business.id,
        body=body,
        inboxes=[inbox] if inbox else [],
        now=now,
    )
    return uri


async def enqueue_accept(
    services: Services, business: Business, actor: RemoteActor, follow: Any
) -> str:
    """Queue ``Accept{Follow}`` to the follower; return the Accept's id."""
    return await _send(services, activities.accept, business, actor, follow)


async def enqueue_reject(
    services: Services, business: Business, actor: RemoteActor, follow: Any
) -> str:
    """Queue ``Reject{Follow}`` to the follower (a refused request or a removed follower)."""
    return await _send(services, activities.reject, business, actor, follow)
