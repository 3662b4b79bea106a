"""Helpers for the outbound tests: owners' requests, followers, images made on the spot."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image

from fedi_town.store import actors as store_actors
from fedi_town.store import social
from fedi_town.store.actors import ActorProfile
from fedi_town.store.db import Store, now_ms


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


def image_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 90, 20)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


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
