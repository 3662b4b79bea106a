"""Helpers for the outbound and API tests: owners' requests, followers, images made on the spot,
what was queued for delivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from fedi_town.store import actors as store_actors
from fedi_town.store import social
from fedi_town.store.actors import ActorProfile
from fedi_town.store.db import Store, now_ms
from tests.media.conftest import image_bytes as image_bytes  # re-exported: uploads use it


def owner(business: dict[str, Any]) -> dict[str, str]:
    """Authorization headers of a business's owner."""
    return {"Authorization": f"Bearer {business['owner_token']}"}


async def add_follower(
    store: Store,
    business_id: int | str,
    uri: str,
    *,
    inbox: str | None = None,
    shared_inbox: str | None = None,
    username: str | None = None,
) -> int:
    """Make the remote actor ``uri`` an accepted follower; return its actor row id."""
    actor = await store_actors.upsert(
        store,
        ActorProfile(
            uri=uri,
            type="Person",
            inbox=inbox or f"{uri}/inbox",
            shared_inbox=shared_inbox,
            username=username or uri.rstrip("/").rsplit("/", 1)[-1],
            followers_uri=f"{uri}/followers",
        ),
        replace_keys=False,
        now=now_ms(),
    )
    await social.insert_follow(
        store,
        business_id=int(business_id),
        actor_id=actor.id,
        state="accepted",
        follow_uri=f"{uri}#follows/1",
        follow_document=None,
        now=now_ms(),
    )
    return actor.id


async def write_post(
    client: httpx.AsyncClient, business: dict[str, Any], **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/businesses/{business['username']}/posts", json=body, headers=owner(business)
    )


async def upload(
    client: httpx.AsyncClient,
    business: dict[str, Any],
    data: bytes,
    *,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
    description: str | None = None,
) -> httpx.Response:
    fields = {"description": description} if description is not None else None
    return await client.post(
        f"/api/v1/businesses/{business['username']}/media",
        files={"file": (filename, data, content_type)},
        data=fields,
        headers=owner(business),
    )


async def table_count(store: Store, table: str) -> int:
    return int(await store.fetch_val(f"SELECT COUNT(*) FROM {table}") or 0)


async def activities(store: Store, kind: str | None = None) -> list[dict[str, Any]]:
    """The bodies of the activities queued for delivery, oldest first (of ``kind`` only)."""
    rows = await store.fetch_all("SELECT type, body FROM outgoing_activities ORDER BY id")
    return [json.loads(r["body"]) for r in rows if kind is None or r["type"] == kind]


async def deliveries(store: Store) -> list[dict[str, Any]]:
    """Every delivery row (inbox, state, activity type), by activity then inbox."""
    return await store.fetch_all(
        "SELECT d.inbox, d.state, a.type FROM deliveries d "
        "JOIN outgoing_activities a ON a.id = d.activity_id ORDER BY a.id, d.inbox"
    )


def future(minutes: int = 60) -> str:
    """An ISO time ``minutes`` from now (a ``scheduled_at``)."""
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()
