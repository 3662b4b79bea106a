"""Rows the store tests start from: a business, a remote actor, a post, written with the
store's own functions."""

from __future__ import annotations

from typing import Any

from fedi_town.store import actors, businesses, posts
from fedi_town.store.actors import ActorProfile, RemoteActor
from fedi_town.store.businesses import Business
from fedi_town.store.db import Store, new_id, now_ms


async def a_business(store: Store, username: str = "bakery") -> Business:
    """A business with placeholder keys (the store neither parses nor opens them)."""
    business = await businesses.create(
        store,
        username=username,
        profile={"display_name": username.title()},
        owner_token_hash=f"hash-{username}",
        sealed_private_key=f"sealed-{username}",
        public_key_pem=f"public-{username}",
        now=now_ms(),
    )
    assert business is not None
    return business


def a_profile(name: str = "jo", host: str = "remote.test", **fields: Any) -> ActorProfile:
    """The document of ``https://<host>/users/<name>`` as ``remote.actors`` parses it."""
    uri = f"https://{host}/users/{name}"
    values: dict[str, Any] = {
        "uri": uri,
        "type": "Person",
        "inbox": f"{uri}/inbox",
        "username": name,
        "shared_inbox": f"https://{host}/inbox",
    }
    values.update(fields)
    return ActorProfile(**values)


async def an_actor(
    store: Store, name: str = "jo", host: str = "remote.test", **fields: Any
) -> RemoteActor:
    """A stored remote actor."""
    return await actors.upsert(store, a_profile(name, host, **fields), now=now_ms())


async def a_post(
    store: Store, business: Business, *, published: bool = True, **columns: Any
) -> posts.Post:
    """A public post of ``business``, published now unless ``published`` is False."""
    post_id = new_id()
    now = now_ms()
    values: dict[str, Any] = {
        "post_id": post_id,
        "business_id": business.id,
        "uri": f"https://town.test/users/{business.username}/statuses/{post_id}",
        "content_source": "Fresh bread",
        "content_html": "<p>Fresh bread</p>",
        "spoiler_text": "",
        "sensitive": False,
        "language": "en",
        "visibility": "public",
        "in_reply_to_uri": None,
        "mentions": [],
        "hashtags": [],
        "extra_inboxes": [],
        "scheduled_at": None,
        "published_at": now if published else None,
        "now": now,
    }
    values.update(columns)
    return await posts.insert(store, **values)
