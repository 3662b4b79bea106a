"""Queries on who a business follows (table ``following``).

The followed account is a ``remote_actors`` row: a remote actor, or another business here
stored as one (``store.local_actors``), so one join serves both. A follow is ``pending``
from the moment our Follow is queued until the other side's Accept, then ``accepted``; a
Reject or an unfollow deletes it. ``follow_uri`` is the id of the Follow we sent: an Accept
or Reject names it (or embeds it), and an Undo embeds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fedi_town.store.actors import JOIN_COLUMNS, RemoteActor, actor_from_row, follows_where
from fedi_town.store.db import Store, new_id

PENDING = "pending"
ACCEPTED = "accepted"


@dataclass(frozen=True)
class Following:
    """One account a business follows, or asked to."""

    id: int
    business_id: int
    actor_id: int
    follow_uri: str
    state: str
    created_at: int
    updated_at: int


def _following(row: Mapping[str, Any]) -> Following:
    return Following(
        id=int(row["id"]),
        business_id=int(row["business_id"]),
        actor_id=int(row["actor_id"]),
        follow_uri=str(row["follow_uri"]),
        state=str(row["state"]),
        created_at=int(row["created_at"]),
        updated_at=int(row["updated_at"]),
    )


_SELECT = f"SELECT f.*, {JOIN_COLUMNS} FROM following f JOIN remote_actors a ON a.id = f.actor_id"  # noqa: S608


async def insert(
    store: Store, *, business_id: int, actor_id: int, follow_uri: str, now: int
) -> Following:
    """A new pending follow (the caller checked there is none for this actor)."""
    row_id = new_id(now)
    await store.execute(
        "INSERT INTO following (id, business_id, actor_id, follow_uri, state, created_at, "
        "updated_at) VALUES (:id, :b, :a, :u, :s, :now, :now)",
        {"id": row_id, "b": business_id, "a": actor_id, "u": follow_uri, "s": PENDING, "now": now},
    )
    return Following(row_id, business_id, actor_id, follow_uri, PENDING, now, now)


async def of_actor(store: Store, business_id: int, actor_id: int) -> Following | None:
    """The business's follow of that actor, if any."""
    row = await store.fetch_one(
        "SELECT * FROM following WHERE business_id = :b AND actor_id = :a",
        {"b": business_id, "a": actor_id},
    )
    return _following(row) if row else None


async def by_id(
    store: Store, business_id: int, following_id: int
) -> tuple[Following, RemoteActor] | None:
    """One follow of the business by its id, with the followed actor."""
    row = await store.fetch_one(
        _SELECT + " WHERE f.business_id = :b AND f.id = :id", {"b": business_id, "id": following_id}
    )
    return (_following(row), actor_from_row(row, "a_")) if row else None


async def by_follow_uri(store: Store, follow_uri: str, actor_id: int) -> Following | None:
    """The follow whose Follow had this id, of this actor (an answer names its Follow)."""
    row = await store.fetch_one(
        "SELECT * FROM following WHERE follow_uri = :u AND actor_id = :a",
        {"u": follow_uri, "a": actor_id},
    )
    return _following(row) if row else None


async def set_state(store: Store, following_id: int, state: str, *, now: int) -> None:
    await store.execute(
        "UPDATE following SET state = :s, updated_at = :now WHERE id = :id",
        {"s": state, "now": now, "id": following_id},
    )


async def delete(store: Store, following_id: int) -> None:
    """End a follow (an unfollow, a Reject, a block) and take that account's posts and
    boosts off the business's home timeline (``store.timeline``)."""
    await store.execute(
        "DELETE FROM timeline WHERE id IN (SELECT t.id FROM timeline t "
        "JOIN following f ON f.business_id = t.business_id WHERE f.id = :id "
        "AND (t.boosted_by = f.actor_id OR (t.boosted_by IS NULL AND t.note_id IN "
        "(SELECT n.id FROM remote_notes n WHERE n.actor_id = f.actor_id))))",
        {"id": following_id},
    )
    await store.execute("DELETE FROM following WHERE id = :id", {"id": following_id})


async def page(
    store: Store,
    business_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    state: str | None = None,
) -> list[tuple[Following, RemoteActor]]:
    """A page of the business's follows (of one ``state``, or both), newest first."""
    values: dict[str, Any] = {"b": business_id, "limit": limit}
    sql = _SELECT + " WHERE f.business_id = :b"
    if state is not None:
        sql += " AND f.state = :s"
        values["s"] = state
    if max_id is not None:
        sql += " AND f.id < :max"
        values["max"] = max_id
    sql += " ORDER BY f.id DESC LIMIT :limit"
    rows = await store.fetch_all(sql, values)
    return [(_following(r), actor_from_row(r, "a_")) for r in rows]


async def count_accepted(store: Store, business_id: int) -> int:
    found = await store.fetch_val(
        "SELECT COUNT(*) FROM following WHERE business_id = :b AND state = :s",
        {"b": business_id, "s": ACCEPTED},
    )
    return int(found or 0)


async def accepted_uris(store: Store, business_id: int, *, limit: int, offset: int) -> list[str]:
    """Actor ids the business follows (accepted), newest first: the ``following`` page."""
    rows = await store.fetch_all(
        "SELECT a.uri FROM following f JOIN remote_actors a ON a.id = f.actor_id "
        "WHERE f.business_id = :b AND f.state = :s ORDER BY f.id DESC LIMIT :limit OFFSET :off",
        {"b": business_id, "s": ACCEPTED, "limit": limit, "off": offset},
    )
    return [str(r["uri"]) for r in rows]


async def states_of(store: Store, business_id: int, actor_ids: list[int]) -> dict[int, str]:
    """The state of the business's follow of each of ``actor_ids`` it follows or asked to
    (for "Follow back" on the followers page)."""
    if not actor_ids:
        return {}
    names = {f"a{n}": actor_id for n, actor_id in enumerate(actor_ids)}
    listed = ", ".join(f":{name}" for name in names)
    rows = await store.fetch_all(
        "SELECT actor_id, state FROM following "  # noqa: S608
        f"WHERE business_id = :b AND actor_id IN ({listed})",
        {"b": business_id, **names},
    )
    return {int(r["actor_id"]): str(r["state"]) for r in rows}


async def matching(
    store: Store,
    *,
    business_id: int | None,
    actor_uri: str | None = None,
    domain: str | None = None,
) -> list[tuple[Following, RemoteActor]]:
    """Follows (of one business, or of any with ``business_id=None``) of one actor or of
    every actor of a domain (and its subdomains): what a new block ends."""
    where, values = follows_where(business_id, actor_uri, domain)
    rows = await store.fetch_all(_SELECT + where, values)
    return [(_following(r), actor_from_row(r, "a_")) for r in rows]


async def followed_inboxes(store: Store, business_id: int) -> list[str]:
    """The (shared) inboxes of everyone the business follows or asked to: who hears of its
    deletion besides its followers."""
    rows = await store.fetch_all(
        "SELECT DISTINCT COALESCE(a.shared_inbox, a.inbox) AS inbox FROM following f "
        "JOIN remote_actors a ON a.id = f.actor_id "
        "WHERE f.business_id = :b AND a.gone_at IS NULL "
        "AND COALESCE(a.shared_inbox, a.inbox) IS NOT NULL",
        {"b": business_id},
    )
    return [str(r["inbox"]) for r in rows]


async def delete_all_of(store: Store, business_id: int) -> None:
    """Forget whom the business follows, and its home timeline (it is being deleted)."""
    await store.execute("DELETE FROM timeline WHERE business_id = :b", {"b": business_id})
    await store.execute("DELETE FROM following WHERE business_id = :b", {"b": business_id})
