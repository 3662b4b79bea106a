"""What a business gave: its likes and boosts of posts (table ``given_reactions``).

One row per (business, post, kind), kind ``like`` or ``announce``; written in the
transaction that queues the Like or Announce, deleted in the one that queues its Undo. The
post is named by its ActivityPub id (``object_uri``): a remote post, another business's post
here, or the business's own. ``activity_uri`` is the id of the activity we sent; an Announce
is served there (``read.boosts``) and listed in the outbox.

For other features (timeline marks, a Mastodon client's favourited/reblogged, "what the
business gave back"):

    given(store, business_id, object_uris)   {uri: {"like": bool, "announce": bool}}
    of_object(store, business_id, uri, kind) the row, or None
    page(store, business_id, kind=...)       the business's likes or boosts, newest first

A post deleted by its author (here, or by a ``Delete`` from elsewhere) and a deleted account
take what was given to them along (``forget_object``, ``forget_author``), as Mastodon drops
the reblogs and favourites of a deleted status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from fedi_town.store.db import Store

Kind = Literal["like", "announce"]
LIKE: Final[Kind] = "like"
ANNOUNCE: Final[Kind] = "announce"
KINDS: tuple[Kind, ...] = (LIKE, ANNOUNCE)


@dataclass(frozen=True)
class Given:
    """One like or boost a business gave."""

    id: int
    business_id: int
    object_uri: str
    kind: str
    activity_uri: str
    author_uri: str
    created_at: int


def _given(row: Mapping[str, Any]) -> Given:
    return Given(
        id=int(row["id"]),
        business_id=int(row["business_id"]),
        object_uri=str(row["object_uri"]),
        kind=str(row["kind"]),
        activity_uri=str(row["activity_uri"]),
        author_uri=str(row["author_uri"]),
        created_at=int(row["created_at"]),
    )


def _in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    names = [f"{prefix}{i}" for i in range(len(values))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))


async def insert(
    store: Store,
    *,
    row_id: int,
    business_id: int,
    object_uri: str,
    kind: Kind,
    activity_uri: str,
    author_uri: str,
    now: int,
) -> Given | None:
    """Record a like or boost; None when the business already gave that one (a repeat,
    or a second request racing the first)."""
    found = await store.fetch_one(
        "INSERT INTO given_reactions (id, business_id, object_uri, kind, activity_uri, "
        "author_uri, created_at) VALUES (:id, :b, :o, :k, :a, :au, :now) "
        "ON CONFLICT (business_id, object_uri, kind) DO NOTHING RETURNING id",
        {
            "id": row_id,
            "b": business_id,
            "o": object_uri,
            "k": kind,
            "a": activity_uri,
            "au": author_uri,
            "now": now,
        },
    )
    if found is None:
        return None
    return Given(row_id, business_id, object_uri, kind, activity_uri, author_uri, now)


async def of_object(store: Store, business_id: int, object_uri: str, kind: Kind) -> Given | None:
    """The business's like or boost of ``object_uri``, if it gave one."""
    row = await store.fetch_one(
        "SELECT * FROM given_reactions WHERE business_id = :b AND object_uri = :o AND kind = :k",
        {"b": business_id, "o": object_uri, "k": kind},
    )
    return _given(row) if row else None


async def by_id(store: Store, business_id: int, given_id: int) -> Given | None:
    row = await store.fetch_one(
        "SELECT * FROM given_reactions WHERE business_id = :b AND id = :id",
        {"b": business_id, "id": given_id},
    )
    return _given(row) if row else None


async def delete(store: Store, given_id: int) -> bool:
    """Forget one like or boost; False when it was already gone (a racing undo)."""
    found = await store.fetch_one(
        "DELETE FROM given_reactions WHERE id = :id RETURNING id", {"id": given_id}
    )
    return found is not None


async def given(
    store: Store, business_id: int, object_uris: Sequence[str]
) -> dict[str, dict[str, bool]]:
    """For each of ``object_uris``: whether the business liked it and boosted it."""
    answer: dict[str, dict[str, bool]] = {
        uri: {LIKE: False, ANNOUNCE: False} for uri in object_uris
    }
    unique = list(dict.fromkeys(object_uris))
    for start in range(0, len(unique), 500):
        marks, values = _in_list("o", unique[start : start + 500])
        rows = await store.fetch_all(
            "SELECT object_uri, kind FROM given_reactions "  # noqa: S608
            f"WHERE business_id = :b AND object_uri IN ({marks})",
            {"b": business_id, **values},
        )
        for row in rows:
            answer[str(row["object_uri"])][str(row["kind"])] = True
    return answer


async def page(
    store: Store, business_id: int, *, kind: Kind, limit: int, max_id: int | None = None
) -> list[Given]:
    """The business's likes or boosts, newest first."""
    values: dict[str, Any] = {"b": business_id, "k": kind, "limit": limit}
    sql = "SELECT * FROM given_reactions WHERE business_id = :b AND kind = :k"
    if max_id is not None:
        sql += " AND id < :max"
        values["max"] = max_id
    rows = await store.fetch_all(sql + " ORDER BY id DESC LIMIT :limit", values)
    return [_given(r) for r in rows]


async def count(store: Store, business_id: int, kind: Kind) -> int:
    found = await store.fetch_val(
        "SELECT COUNT(*) FROM given_reactions WHERE business_id = :b AND kind = :k",
        {"b": business_id, "k": kind},
    )
    return int(found or 0)


async def forget_object(
    store: Store, object_uri: str, *, author_uri: str | None = None
) -> list[str]:
    """Forget every like and boost of a post that was deleted (by ``author_uri``, when the
    deletion came from elsewhere); the usernames of the businesses whose outbox changed."""
    values: dict[str, Any] = {"o": object_uri}
    sql = "DELETE FROM given_reactions WHERE object_uri = :o"
    if author_uri is not None:
        sql += " AND author_uri = :au"
        values["au"] = author_uri
    rows = await store.fetch_all(sql + " RETURNING business_id, kind", values)
    return await _boosters(store, rows)


async def forget_author(store: Store, author_uri: str) -> list[str]:
    """Forget every like and boost of an account's posts (the account was deleted); the
    usernames of the businesses whose outbox changed."""
    rows = await store.fetch_all(
        "DELETE FROM given_reactions WHERE author_uri = :au RETURNING business_id, kind",
        {"au": author_uri},
    )
    return await _boosters(store, rows)


async def _boosters(store: Store, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The usernames of the businesses among ``rows`` that had boosted (their outbox)."""
    ids = sorted({int(r["business_id"]) for r in rows if r["kind"] == ANNOUNCE})
    if not ids:
        return []
    marks, values = _in_list("b", ids)
    found = await store.fetch_all(
        f"SELECT username FROM businesses WHERE id IN ({marks})",  # noqa: S608
        values,
    )
    return sorted(str(r["username"]) for r in found)


async def delete_all_of(store: Store, business_id: int) -> None:
    """Forget what the business gave (it is being deleted; its Delete undoes it all)."""
    await store.execute("DELETE FROM given_reactions WHERE business_id = :b", {"b": business_id})
