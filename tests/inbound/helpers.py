"""Helpers for inbound tests: businesses and posts written straight to the store, remote
actors as if fetched, and running one activity through its handler."""

from __future__ import annotations

import functools
import json
from typing import Any

from fedi_town.inbound.context import Inbound
from fedi_town.inbound.dispatch import handle_inbox_item
from fedi_town.inbound.handlers import HANDLERS
from fedi_town.protocol.keys import generate_rsa_keypair
from fedi_town.services import Services
from fedi_town.store import actors as store_actors
from fedi_town.store import businesses
from fedi_town.store import inbox as inbox_store
from fedi_town.store import queue as q
from fedi_town.store.actors import ActorProfile, RemoteActor
from fedi_town.store.businesses import Business
from fedi_town.store.db import Store, new_id, now_ms


@functools.cache
def keypair() -> tuple[str, str]:
    """One RSA key pair for the whole session (making keys is slow)."""
    return generate_rsa_keypair()


async def add_business(
    services: Services, username: str = "bakery", *, manual: bool = False
) -> Business:
    private_pem, public_pem = keypair()
    business = await businesses.create(
        services.store,
        username=username,
        profile={"display_name": username.title(), "manually_approves_followers": manual},
        owner_token_hash=f"hash-{username}",
        sealed_private_key=services.sealed_keys.seal(private_pem),
        public_key_pem=public_pem,
        now=now_ms(),
    )
    assert business is not None
    return business


async def add_post(
    services: Services, business: Business, text: str = "Fresh bread today", **columns: Any
) -> tuple[int, str]:
    """A published public post of ``business``; returns (id, uri)."""
    post_id = new_id()
    uri = services.urls.post(business.username, post_id)
    values: dict[str, Any] = {
        "id": post_id,
        "business_id": business.id,
        "uri": uri,
        "content_source": text,
        "content_html": f"<p>{text}</p>",
        "visibility": "public",
        "published_at": now_ms(),
        "created_at": now_ms(),
    }
    values.update(columns)
    names = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    await services.store.execute(f"INSERT INTO posts ({names}) VALUES ({params})", values)
    return post_id, uri


async def add_remote_actor(
    store: Store,
    uri: str,
    *,
    username: str | None = None,
    followers: bool = True,
    also_known_as: tuple[str, ...] = (),
) -> RemoteActor:
    """A remote actor as if we had fetched its document (with one key)."""
    name = username or uri.rstrip("/").rsplit("/", 1)[-1]
    host = uri.split("/")[2]
    scheme = uri.split(":")[0]
    return await store_actors.upsert(
        store,
        ActorProfile(
            uri=uri,
            type="Person",
            inbox=f"{uri}/inbox",
            username=name,
            display_name=name.title(),
            url=f"{scheme}://{host}/@{name}",
            shared_inbox=f"{scheme}://{host}/inbox",
            followers_uri=f"{uri}/followers" if followers else None,
            also_known_as=also_known_as,
            keys=((f"{uri}#main-key", keypair()[1]),),
        ),
        now=now_ms(),
    )


async def handle(
    services: Services, activity: dict[str, Any], *, business_id: int | None = None
) -> str:
    """Run ``activity`` through its handler (as the worker would) and return the outcome."""
    actor = activity["actor"] if isinstance(activity["actor"], str) else activity["actor"]["id"]
    kind = activity["type"]
    ctx = Inbound(services, item_id=0, activity=activity, actor_uri=actor, business_id=business_id)
    return await HANDLERS[kind](ctx)


async def dispatch(services: Services, activity: dict[str, Any]) -> dict[str, Any]:
    """Store ``activity`` as an inbox item and run the worker's handler on it; the row after."""
    actor = activity["actor"] if isinstance(activity["actor"], str) else activity["actor"]["id"]
    row_id = await inbox_store.add(
        services.store,
        activity_uri=activity["id"],
        business_id=None,
        actor_uri=actor,
        type=activity["type"],
        body=json.dumps(activity),
        now=now_ms(),
    )
    assert row_id is not None
    row = await services.store.fetch_one("SELECT * FROM inbox_items WHERE id = :id", {"id": row_id})
    assert row is not None
    outcome = await handle_inbox_item(services, row)
    await q.apply(services.store, q.INBOX, row_id, outcome, now=now_ms())
    after = await services.store.fetch_one(
        "SELECT * FROM inbox_items WHERE id = :id", {"id": row_id}
    )
    assert after is not None
    return dict(after)


async def snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables handlers write, to compare before and after a repeat."""
    tables = {
        "follows": "SELECT business_id, actor_id, state, follow_uri FROM follows",
        "interactions": "SELECT kind, activity_uri, actor_id, post_id FROM interactions",
        "remote_notes": (
            "SELECT uri, content_html, summary, visibility, edited_at FROM remote_notes"
        ),
        "remote_note_targets": "SELECT note_id, business_id FROM remote_note_targets",
        "timeline": "SELECT business_id, note_id, entry_uri, boosted_by FROM timeline",
        "notifications": "SELECT business_id, type, dedupe_key FROM notifications",
        "reports": "SELECT activity_uri, business_id, content FROM reports",
        "report_targets": "SELECT report_id, business_id FROM report_targets",
        "remote_actors": "SELECT uri, display_name, moved_to, also_known_as FROM remote_actors",
        "remote_keys": "SELECT key_id, owner_uri FROM remote_keys",
        "outgoing": "SELECT type FROM outgoing_activities",
    }
    result = {}
    for name, sql in tables.items():
        rows = await store.fetch_all(sql)
        result[name] = sorted((dict(r) for r in rows), key=lambda r: json.dumps(r, default=str))
    return result


async def count(store: Store, table: str, where: str = "1 = 1", **values: Any) -> int:
    return int(await store.fetch_val(f"SELECT COUNT(*) FROM {table} WHERE {where}", values) or 0)


async def outgoing(store: Store, kind: str | None = None) -> list[dict[str, Any]]:
    """Activities queued for delivery (bodies decoded), with their inboxes."""
    rows = await store.fetch_all("SELECT id, type, body FROM outgoing_activities ORDER BY id")
    found = []
    for row in rows:
        if kind is not None and row["type"] != kind:
            continue
        inboxes = await store.fetch_all(
            "SELECT inbox FROM deliveries WHERE activity_id = :a", {"a": row["id"]}
        )
        found.append(
            {"body": json.loads(row["body"]), "inboxes": [str(r["inbox"]) for r in inboxes]}
        )
    return found


async def notification_types(store):
    """The types of every notification, oldest first."""
    rows = await store.fetch_all("SELECT type FROM notifications ORDER BY id")
    return [r["type"] for r in rows]
