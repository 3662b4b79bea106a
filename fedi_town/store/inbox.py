"""Received activities waiting for the worker (``inbox_items``, the ``queue.INBOX`` queue).

The activity id is UNIQUE: the same activity delivered twice (to a personal and the shared
inbox, or retried by its sender) is stored once.
"""

from __future__ import annotations

from fedi_town.store import queue as q
from fedi_town.store.db import Store, new_id, now_ms


async def add(
    store: Store,
    *,
    activity_uri: str,
    business_id: int | None,
    actor_uri: str,
    type: str,
    body: str,
) -> int | None:
    """Store a received activity as pending; its row id, or None if it was seen before."""
    now = now_ms()
    async with store.transaction():
        row = await store.fetch_one(
            "INSERT INTO inbox_items (id, activity_uri, business_id, actor_uri, type, body, "
            "state, attempts, next_attempt_at, created_at) VALUES (:id, :uri, :b, :actor, "
            ":type, :body, 'pending', 0, :now, :now) "
            "ON CONFLICT (activity_uri) DO NOTHING RETURNING id",
            {
                "id": new_id(),
                "uri": activity_uri,
                "b": business_id,
                "actor": actor_uri,
                "type": type[:100],
                "body": body,
                "now": now,
            },
        )
    return int(row["id"]) if row is not None else None


async def cancel_from_actor(store: Store, actor_uri: str, *, except_id: int | None = None) -> None:
    """Cancel an actor's pending items (it was deleted or blocked)."""
    where = "actor_uri = :a"
    values: dict[str, object] = {"a": actor_uri}
    if except_id is not None:
        where += " AND id <> :me"
        values["me"] = except_id
    await q.cancel_where(store, q.INBOX, where, values)


async def cancel_from_domain(store: Store, domain: str) -> None:
    """Cancel pending items whose actor is on ``domain`` or a subdomain (a domain block)."""
    values: dict[str, object] = {}
    clauses = []
    for i, scheme in enumerate(("https", "http")):
        values[f"exact{i}"] = f"{scheme}://{domain}/%"
        values[f"port{i}"] = f"{scheme}://{domain}:%"
        values[f"sub{i}"] = f"{scheme}://%.{domain}/%"
        clauses += [f"actor_uri LIKE :exact{i}", f"actor_uri LIKE :port{i}"]
        clauses.append(f"actor_uri LIKE :sub{i}")
    await q.cancel_where(store, q.INBOX, " OR ".join(clauses), values)
