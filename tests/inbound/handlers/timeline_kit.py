"""What the home timeline handler tests share: a followed account, its posts and boosts."""

from __future__ import annotations

import uuid
from typing import Any

from fedi_town.services import Services
from fedi_town.store import following
from fedi_town.store.actors import RemoteActor
from fedi_town.store.businesses import Business
from fedi_town.store.db import now_ms
from tests.inbound.helpers import add_remote_actor

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"


async def followed(
    services: Services, business: Business, uri: str, state: str = following.ACCEPTED
) -> RemoteActor:
    """A remote account the business follows (accepted unless told)."""
    actor = await add_remote_actor(services.store, uri)
    row = await following.insert(
        services.store,
        business_id=business.id,
        actor_id=actor.id,
        follow_uri=f"https://town.example/follows/{uuid.uuid4().hex}",
        now=now_ms(),
    )
    if state != following.PENDING:
        await following.set_state(services.store, row.id, state, now=now_ms())
    return actor


def note(
    author: str, content: str = "<p>Fresh plums at the market</p>", **extra: Any
) -> dict[str, Any]:
    """A public Mastodon-shaped note by ``author``."""
    note_id = f"{author}/statuses/{uuid.uuid4().int % 10**18}"
    body = {
        "id": note_id,
        "type": "Note",
        "attributedTo": author,
        "content": content,
        "published": "2026-12-01T10:00:00Z",
        "url": note_id.replace("/users/", "/@").replace("/statuses/", "/"),
        "to": [PUBLIC],
        "cc": [f"{author}/followers"],
    }
    body.update(extra)
    return body


def create(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{obj['id']}/activity",
        "type": "Create",
        "actor": obj["attributedTo"],
        "to": obj["to"],
        "cc": obj["cc"],
        "object": obj,
    }


def announce(booster: str, obj: Any) -> dict[str, Any]:
    return {
        "@context": AS,
        "id": f"{booster}/statuses/{uuid.uuid4().int % 10**18}/activity",
        "type": "Announce",
        "actor": booster,
        "published": "2026-12-01T11:00:00Z",
        "to": [PUBLIC],
        "cc": [f"{booster}/followers"],
        "object": obj,
    }


async def timeline_uris(services: Services, business: Business) -> list[tuple[str, int | None]]:
    """(note uri, boosted_by) of every entry of the business's timeline, oldest first."""
    rows = await services.store.fetch_all(
        "SELECT n.uri, t.boosted_by FROM timeline t JOIN remote_notes n ON n.id = t.note_id "
        "WHERE t.business_id = :b ORDER BY t.id",
        {"b": business.id},
    )
    return [(str(r["uri"]), r["boosted_by"]) for r in rows]
