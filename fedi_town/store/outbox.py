"""Activities we send and their delivery rows.

``enqueue`` writes the activity and one ``deliveries`` row per distinct inbox. Call it inside
the same transaction that writes what the activity is about (the post, the follow), so a
crash leaves either both or neither: nothing is announced that was not stored, and nothing
stored goes unannounced.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from fedi_town.store.db import Row, Store, new_id
from fedi_town.store.effects import Wake
from fedi_town.store.queue import DELIVERIES


async def enqueue(
    store: Store,
    *,
    business_id: int | None,
    body: Mapping[str, Any],
    inboxes: Iterable[str],
    now: int,
    post_id: int | None = None,
    not_before: int | None = None,
) -> int:
    """Store an outgoing activity and its deliveries; return the activity's row id.

    The activity's ``id`` and ``type`` are taken from ``body`` itself, so they cannot disagree.
    Once this commits, the delivery queue's worker is woken (``Wake``).
    """
    activity_id = new_id(now)
    await store.execute(
        "INSERT INTO outgoing_activities (id, business_id, uri, type, post_id, body, created_at) "
        "VALUES (:id, :b, :uri, :type, :post, :body, :now)",
        {
            "id": activity_id,
            "b": business_id,
            "uri": str(body["id"]),
            "type": str(body["type"]),
            "post": post_id,
            "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            "now": now,
        },
    )
    # A generator, read in chunks by execute_many: a fan-out to 100,000 inboxes never holds
    # 100,000 row dicts at once (they cost ~0.4 KB each).
    rows = (
        {
            "id": new_id(now),
            "a": activity_id,
            "inbox": inbox,
            "host": host,
            "due": not_before or now,
            "now": now,
        }
        for host, inbox in _across_hosts(inboxes)
    )
    written = _Counted(rows)
    await store.execute_many(
        "INSERT INTO deliveries (id, activity_id, inbox, host, state, attempts, "
        "next_attempt_at, created_at) VALUES (:id, :a, :inbox, :host, 'pending', 0, :due, :now)",
        written,
    )
    if written.count:
        store.after_commit(Wake(DELIVERIES))
    return activity_id


class _Counted(Iterator[dict[str, Any]]):
    """An iterator that counts what was taken from it."""

    def __init__(self, rows: Iterator[dict[str, Any]]) -> None:
        self._rows = rows
        self.count = 0

    def __next__(self) -> dict[str, Any]:
        row = next(self._rows)
        self.count += 1
        return row


def _across_hosts(inboxes: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Distinct inboxes as (host, inbox), taking one per host in turn.

    Rows are claimed in id order and each host takes only a few requests at a time
    (``deliver.PER_HOST``), so a run of one host's inboxes (the audience query returns them
    sorted) would leave most delivery slots waiting on that host. Interleaved, the first
    rows reach as many servers as there are.
    """
    by_host: dict[str, list[str]] = {}
    for inbox in dict.fromkeys(i for i in inboxes if i):
        by_host.setdefault((urlsplit(inbox).netloc or "").lower(), []).append(inbox)
    hosts = list(by_host)
    for turn in itertools.zip_longest(*by_host.values()):
        for n, inbox in enumerate(turn):
            if inbox:
                yield hosts[n], inbox


async def activity_for_delivery(store: Store, activity_id: int) -> Row | None:
    """The activity a delivery row sends: its JSON body and the sending business id."""
    return await store.fetch_one(
        "SELECT id, business_id, uri, type, body FROM outgoing_activities WHERE id = :id",
        {"id": activity_id},
    )


async def still_delivering(store: Store, activity_uri: str) -> bool:
    """Whether some delivery of the activity ``activity_uri`` is not yet done or given up.

    Reads the (few) pending rows through ``deliveries_due`` and each one's activity by id.
    """
    row = await store.fetch_one(
        "SELECT 1 AS one FROM deliveries d JOIN outgoing_activities a ON a.id = d.activity_id "
        "WHERE d.state = 'pending' AND a.uri = :uri LIMIT 1",
        {"uri": activity_uri},
    )
    return row is not None


async def follower_inboxes(store: Store, business_id: int) -> list[str]:
    """Where to send a business's activities for its followers: one shared inbox per server
    that offers one, else each follower's own inbox."""
    inboxes = await store.fetch_column(
        "SELECT DISTINCT COALESCE(a.shared_inbox, a.inbox) AS inbox FROM follows f "
        "JOIN remote_actors a ON a.id = f.actor_id "
        "WHERE f.business_id = :b AND f.state = 'accepted' AND a.gone_at IS NULL "
        "AND COALESCE(a.shared_inbox, a.inbox) IS NOT NULL",
        {"b": business_id},
    )
    return [str(inbox) for inbox in inboxes]


async def mark_inbox_gone(store: Store, inbox: str, *, now: int) -> int:
    """A personal inbox answered 410: its actor is gone; drop it as follower everywhere (and
    from whom businesses follow)."""
    async with store.transaction():
        rows = await store.fetch_all(
            "SELECT id FROM remote_actors WHERE inbox = :inbox AND gone_at IS NULL",
            {"inbox": inbox},
        )
        for row in rows:
            await store.execute(
                "UPDATE remote_actors SET gone_at = :now WHERE id = :id",
                {"now": now, "id": row["id"]},
            )
            await store.execute("DELETE FROM follows WHERE actor_id = :id", {"id": row["id"]})
            await store.execute("DELETE FROM following WHERE actor_id = :id", {"id": row["id"]})
    return len(rows)
