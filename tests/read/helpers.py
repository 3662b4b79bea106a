"""Direct inserts for read-side tests: posts, media, remote actors, follows, replies, likes.

They write rows as the outbound and inbound sides would, through the app's own store, so
the read side can be tested whatever the state of the APIs that normally write them.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import httpx

from fedi_town.services import Services
from fedi_town.store import businesses
from fedi_town.store.businesses import Business
from fedi_town.store.db import new_id, now_ms

AP = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}
#: What Mastodon's URL search sends (interop W9).
MASTODON = {
    "Accept": "application/activity+json, "
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams", text/html;q=0.1'
}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

#: 2026-11-20T00:00:00Z; every inserted post is one minute later than the one before.
BASE_MS = 1_795_132_800_000
_minutes = itertools.count()


def services(client: httpx.AsyncClient) -> Services:
    found: Services = client.services  # type: ignore[attr-defined]
    return found


async def business(client: httpx.AsyncClient, username: str) -> Business:
    found = await businesses.by_username(services(client).store, username, include_deleted=True)
    assert found is not None
    return found


def next_time() -> int:
    return BASE_MS + next(_minutes) * 60_000


async def insert_post(
    client: httpx.AsyncClient,
    username: str = "bakery",
    *,
    content_html: str = "<p>Fresh bread today</p>",
    visibility: str = "public",
    published_at: int | str | None = "now",
    spoiler_text: str = "",
    sensitive: bool = False,
    language: str | None = "en",
    in_reply_to_uri: str | None = None,
    mentions: list[dict[str, str]] | None = None,
    hashtags: list[str] | None = None,
    edited_at: int | None = None,
    pinned_at: int | None = None,
    deleted_at: int | None = None,
) -> int:
    """Insert a post of ``username``; return its id."""
    owner = await business(client, username)
    at = next_time() if published_at == "now" else published_at
    post_id = new_id()
    await services(client).store.execute(
        """INSERT INTO posts (id, business_id, uri, content_source, content_html, spoiler_text,
            sensitive, language, visibility, in_reply_to_uri, mentions, hashtags, published_at,
            edited_at, pinned_at, deleted_at, created_at)
        VALUES (:id, :b, :uri, :src, :html, :spoiler, :sensitive, :language, :visibility,
            :reply, :mentions, :hashtags, :published, :edited, :pinned, :deleted, :created)""",
        {
            "id": post_id,
            "b": owner.id,
            "uri": services(client).urls.post(owner.username, post_id),
            "src": content_html,
            "html": content_html,
            "spoiler": spoiler_text,
            "sensitive": sensitive,
            "language": language,
            "visibility": visibility,
            "reply": in_reply_to_uri,
            "mentions": json.dumps(mentions or []),
            "hashtags": json.dumps(hashtags or []),
            "published": at,
            "edited": edited_at,
            "pinned": pinned_at,
            "deleted": deleted_at,
            "created": at or BASE_MS,
        },
    )
    return post_id


async def insert_media(
    client: httpx.AsyncClient,
    username: str = "bakery",
    *,
    path: str = "ab/cd/bread.png",
    media_type: str = "image/png",
    post_id: int | None = None,
    description: str = "",
    width: int | None = None,
    height: int | None = None,
    blurhash: str | None = None,
    content: bytes = b"\x89PNG\r\n\x1a\nfake",
) -> int:
    """Insert a media row of ``username`` and write its file under the media directory."""
    owner = await business(client, username)
    media_id = new_id()
    svc = services(client)
    target = Path(svc.settings.media_dir) / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    await svc.store.execute(
        """INSERT INTO media (id, business_id, post_id, path, media_type, size_bytes, width,
            height, blurhash, description, created_at)
        VALUES (:id, :b, :post, :path, :type, :size, :w, :h, :blurhash, :d, :t)""",
        {
            "id": media_id,
            "b": owner.id,
            "post": post_id,
            "path": path,
            "type": media_type,
            "size": len(content),
            "w": width,
            "h": height,
            "blurhash": blurhash,
            "d": description,
            "t": next_time(),
        },
    )
    return media_id


async def set_profile(client: httpx.AsyncClient, username: str, **changes: Any) -> None:
    owner = await business(client, username)
    await businesses.update(services(client).store, owner.id, changes, now=now_ms())


async def insert_remote_actor(
    client: httpx.AsyncClient,
    username: str = "alice",
    domain: str = "mastodon.example",
    *,
    display_name: str | None = "Alice",
    gone: bool = False,
) -> tuple[int, str]:
    """A remote actor; return its row id and actor id (URI)."""
    actor_id = new_id()
    uri = f"https://{domain}/users/{username}"
    await services(client).store.execute(
        """INSERT INTO remote_actors (id, uri, domain, username, display_name, type, url, inbox,
            fetched_at, gone_at)
        VALUES (:id, :uri, :domain, :u, :name, 'Person', :url, :inbox, :t, :gone)""",
        {
            "id": actor_id,
            "uri": uri,
            "domain": domain,
            "u": username,
            "name": display_name,
            "url": f"https://{domain}/@{username}",
            "inbox": f"{uri}/inbox",
            "t": BASE_MS,
            "gone": BASE_MS if gone else None,
        },
    )
    return actor_id, uri


async def insert_follow(
    client: httpx.AsyncClient, username: str, actor_row_id: int, *, state: str = "accepted"
) -> None:
    owner = await business(client, username)
    at = next_time()
    await services(client).store.execute(
        """INSERT INTO follows (id, business_id, actor_id, state, created_at, updated_at)
        VALUES (:id, :b, :a, :s, :t, :t)""",
        {"id": new_id(), "b": owner.id, "a": actor_row_id, "s": state, "t": at},
    )


async def insert_reply(
    client: httpx.AsyncClient,
    actor_row_id: int,
    in_reply_to_uri: str,
    *,
    content_html: str = "<p>Looks delicious!</p>",
    visibility: str = "public",
    summary: str | None = None,
    poll: dict[str, Any] | None = None,
    emojis: list[dict[str, Any]] | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> str:
    """A remote Note replying to ``in_reply_to_uri`` (with the parts as stored: JSON);
    return its URI."""
    note_id = new_id()
    uri = f"https://mastodon.example/users/alice/statuses/{note_id}"
    at = next_time()
    await services(client).store.execute(
        """INSERT INTO remote_notes (id, uri, actor_id, in_reply_to_uri, content_html, url,
            visibility, published_at, created_at, summary, poll, emojis, attachments)
        VALUES (:id, :uri, :a, :reply, :html, :url, :v, :t, :t, :summary, :poll, :emojis,
            :attachments)""",
        {
            "id": note_id,
            "uri": uri,
            "a": actor_row_id,
            "reply": in_reply_to_uri,
            "html": content_html,
            "url": uri,
            "v": visibility,
            "t": at,
            "summary": summary,
            "poll": json.dumps(poll) if poll else None,
            "emojis": json.dumps(emojis or []),
            "attachments": json.dumps(attachments or []),
        },
    )
    return uri


async def insert_interaction(
    client: httpx.AsyncClient, post_id: int, actor_row_id: int, kind: str = "like"
) -> None:
    interaction_id = new_id()
    await services(client).store.execute(
        """INSERT INTO interactions (id, kind, activity_uri, actor_id, post_id, created_at)
        VALUES (:id, :k, :uri, :a, :p, :t)""",
        {
            "id": interaction_id,
            "k": kind,
            "uri": f"https://mastodon.example/activities/{interaction_id}",
            "a": actor_row_id,
            "p": post_id,
            "t": next_time(),
        },
    )
