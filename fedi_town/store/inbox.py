"""Received activities waiting for the worker (``inbox_items``, the ``queue.INBOX`` queue).

The activity id is UNIQUE: the same activity delivered twice (to a personal and the shared
inbox, or retried by its sender) is stored once. ``add_many`` stores a group of activities
with one statement, whatever their number (the inbox's group commit,
``inbound/group_commit.py``): the rows travel as one parameter, a JSON array read with
``json_each`` on SQLite and arrays read with ``unnest`` on PostgreSQL, so each database
prepares the statement once, and a group costs one round trip (PostgreSQL, where a single
statement commits on its own) or one transaction on the store's writer (SQLite).

The insert returns no rows, only how many it stored (``Store.write_count``): when that is
every row, as it nearly always is, each activity has the id made for it here; when some
were stored before, one more query finds which of the new ids exist.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from fedi_town.store import queue as q
from fedi_town.store.db import Store, new_id
from fedi_town.store.effects import Wake

_SQLITE_ADD = (
    "INSERT INTO inbox_items (id, activity_uri, business_id, actor_uri, type, body, state, "
    "attempts, next_attempt_at, created_at) "
    "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
    "json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]'), "
    "json_extract(value, '$[5]'), 'pending', 0, :now, :now FROM json_each(:rows) "
    "WHERE true "  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
    "ON CONFLICT (activity_uri) DO NOTHING"
)
_SQLITE_WHICH = "SELECT id FROM inbox_items WHERE id IN (SELECT value FROM json_each(:ids))"
_POSTGRES_ADD = (
    "INSERT INTO inbox_items (id, activity_uri, business_id, actor_uri, type, body, state, "
    "attempts, next_attempt_at, created_at) "
    "SELECT r.i, r.u, r.b, r.a, r.t, r.y, 'pending', 0, :now, :now "
    "FROM unnest(:ids::bigint[], :uris::text[], :businesses::bigint[], :actors::text[], "
    ":types::text[], :bodies::text[]) AS r (i, u, b, a, t, y) "
    "ON CONFLICT (activity_uri) DO NOTHING"
)
_POSTGRES_WHICH = "SELECT id FROM inbox_items WHERE id = ANY(:ids::bigint[])"


@dataclass(frozen=True)
class Received:
    """An activity accepted by an inbox, to be stored for the worker."""

    activity_uri: str
    business_id: int | None
    actor_uri: str
    type: str
    body: str


async def add(
    store: Store,
    *,
    activity_uri: str,
    business_id: int | None,
    actor_uri: str,
    type: str,
    body: str,
    now: int,
) -> int | None:
    """Store a received activity as pending; its row id, or None if it was seen before.
    A stored one wakes the inbox queue's worker once committed (``add_many`` leaves that
    to its caller, the inbox writer, which wakes it once per group)."""
    [row_id] = await add_many(
        store, [Received(activity_uri, business_id, actor_uri, type, body)], now=now
    )
    if row_id is not None:
        store.after_commit(Wake(q.INBOX))
    return row_id


async def add_many(store: Store, items: Sequence[Received], *, now: int) -> list[int | None]:
    """Store received activities as pending, all or none, in the order given.

    Returns each item's new row id, or None for an activity stored before (or earlier in
    ``items``: the first of the same id is the one stored). Row ids grow in the order
    given, so the worker takes the activities in the order they arrived.
    """
    ids: list[int | None] = [None] * len(items)
    first: dict[str, int] = {}  # activity id -> index of its first item
    for index, item in enumerate(items):
        first.setdefault(item.activity_uri, index)
    rows = [
        (
            new_id(now),
            item.activity_uri,
            item.business_id,
            item.actor_uri,
            item.type[:100],
            item.body,
        )
        for item in (items[index] for index in sorted(first.values()))
    ]
    # One statement is atomic on its own: it commits by itself, with no BEGIN / COMMIT.
    if store.is_sqlite:
        count = await store.write_count(_SQLITE_ADD, {"now": now, "rows": json.dumps(rows)})
    else:
        names = ("ids", "uris", "businesses", "actors", "types", "bodies")
        values: dict[str, object] = {"now": now}
        for name, column in zip(names, zip(*rows, strict=True), strict=True):
            values[name] = list(column)
        count = await store.write_count(_POSTGRES_ADD, values)
    made = [row[0] for row in rows]
    if count == len(rows):
        stored = made
    elif count == 0:
        stored = []
    else:  # some were stored before: the rows that carry the ids made here are the new ones
        found = await store.fetch_all(
            _SQLITE_WHICH if store.is_sqlite else _POSTGRES_WHICH,
            {"ids": json.dumps(made) if store.is_sqlite else made},
        )
        stored = [int(row["id"]) for row in found]
    uri_of = {row[0]: row[1] for row in rows}
    for row_id in stored:
        ids[first[uri_of[row_id]]] = row_id
    return ids


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
