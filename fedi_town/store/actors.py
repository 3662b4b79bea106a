"""Queries on remote actors and their cached public keys (``remote_actors``, ``remote_keys``).

An actor's row is refreshed whenever we fetch its document or receive its ``Update``; its
keys are replaced at the same time, so a key the actor no longer lists stops verifying.
A key that another actor holds is never moved by that replacement (``replace_owner_keys``):
only the caller that fetched the key id itself and was led to the new owner may move it
(``move_key``), so one actor's document cannot take over another's key.

``recent_by_uri`` serves the inbox worker, which looks up the sender of every item (a
burst of likes comes from the same few hundred actors): rows read within
``ACTOR_CACHE_SECONDS`` are kept per process (``recent_many`` reads a whole group's senders
in one query). This module's writers forget the actor they
change; whoever deletes an actor row elsewhere calls ``forget``. A change made by another
process sharing the database is seen here within ``ACTOR_CACHE_SECONDS``.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fedi_town.protocol.note_parts import EmojiTag
from fedi_town.store.db import Store, new_id

log = logging.getLogger(__name__)

ACTOR_CACHE_SECONDS = 10.0
ACTOR_CACHE_SIZE = 5_000


@dataclass(frozen=True)
class ActorProfile:
    """What we keep of a remote actor document (parsed by ``remote.actors``)."""

    uri: str
    type: str
    inbox: str
    username: str | None = None
    display_name: str | None = None
    url: str | None = None
    icon_url: str | None = None
    shared_inbox: str | None = None
    followers_uri: str | None = None
    also_known_as: tuple[str, ...] = ()
    moved_to: str | None = None
    #: the custom emoji its name shows (``:code:`` in ``display_name``)
    emojis: tuple[EmojiTag, ...] = ()
    #: (key id, public key PEM) of every key the document lists for this actor.
    keys: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class RemoteActor:
    """A remote actor as stored."""

    id: int
    uri: str
    domain: str
    username: str | None
    display_name: str | None
    type: str | None
    url: str | None
    icon_url: str | None
    inbox: str | None
    shared_inbox: str | None
    followers_uri: str | None
    also_known_as: list[str]
    moved_to: str | None
    fetched_at: int
    gone_at: int | None
    #: custom emoji of its name: ``[{shortcode, url}]``
    emojis: list[dict[str, str]] = field(default_factory=list)
    #: icon URL -> ``/proxy/emoji/{digest}`` where the cache kept it, ``""`` where it refused
    emoji_paths: dict[str, str] = field(default_factory=dict)

    def name_emojis(self) -> dict[str, str]:
        """shortcode -> served path of each emoji of its name the cache holds."""
        return {
            e["shortcode"]: self.emoji_paths[e["url"]]
            for e in self.emojis
            if self.emoji_paths.get(e.get("url", ""))
        }

    def uncached_emojis(self) -> list[EmojiTag]:
        """The emoji of its name whose icon the cache has not answered for yet."""
        return [
            EmojiTag(e["shortcode"], e["url"])
            for e in self.emojis
            if e["url"] not in self.emoji_paths
        ]

    @property
    def handle(self) -> str | None:
        """``@user@host`` (the host of the actor id; we do not follow split domains)."""
        return f"@{self.username}@{self.domain}" if self.username else None


@dataclass(frozen=True)
class StoredKey:
    key_id: str
    owner_uri: str
    public_key_pem: str = field(repr=False)
    fetched_at: int = 0


def domain_of(uri: str) -> str:
    return urlsplit(uri).netloc.lower()


def actor_from_row(row: Mapping[str, Any], prefix: str = "") -> RemoteActor:
    """Build a ``RemoteActor`` from a row; ``prefix`` reads aliased join columns."""

    def col(name: str) -> Any:
        return row[prefix + name]

    return RemoteActor(
        id=int(col("id")),
        uri=str(col("uri")),
        domain=str(col("domain")),
        username=col("username"),
        display_name=col("display_name"),
        type=col("type"),
        url=col("url"),
        icon_url=col("icon_url"),
        inbox=col("inbox"),
        shared_inbox=col("shared_inbox"),
        followers_uri=col("followers_uri"),
        also_known_as=json.loads(col("also_known_as") or "[]"),
        moved_to=col("moved_to"),
        fetched_at=int(col("fetched_at")),
        gone_at=col("gone_at"),
        emojis=_json_of(col("emojis"), list),
        emoji_paths=_json_of(col("emoji_paths"), dict),
    )


def _json_of(text: Any, kind: type) -> Any:
    """Stored JSON of ``kind`` (list or dict), an empty one for anything else."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        value = None
    return value if isinstance(value, kind) else kind()


#: Columns to select for ``actor_from_row(row, prefix="a_")`` from a join aliased ``a``.
JOIN_COLUMNS = ", ".join(
    f"a.{c} AS a_{c}"
    for c in (
        "id",
        "uri",
        "domain",
        "username",
        "display_name",
        "type",
        "url",
        "icon_url",
        "inbox",
        "shared_inbox",
        "followers_uri",
        "also_known_as",
        "moved_to",
        "fetched_at",
        "gone_at",
        "emojis",
        "emoji_paths",
    )
)


def follows_where(
    business_id: int | None, actor_uri: str | None, domain: str | None
) -> tuple[str, dict[str, Any]]:
    """The WHERE clause (or "") picking follows of one business (``f``), of one actor or of
    every actor of a domain and its subdomains (``a``, the joined ``remote_actors`` row):
    what a new block ends, for followers and for followed accounts alike."""
    where: list[str] = []
    values: dict[str, Any] = {}
    if business_id is not None:
        where.append("f.business_id = :b")
        values["b"] = business_id
    if actor_uri is not None:
        where.append("a.uri = :uri")
        values["uri"] = actor_uri
    if domain is not None:
        where.append("(a.domain = :d OR a.domain LIKE :sub)")
        values["d"] = domain
        values["sub"] = "%." + domain
    return (" WHERE " + " AND ".join(where) if where else ""), values


async def by_uri(store: Store, uri: str) -> RemoteActor | None:
    row = await store.fetch_one("SELECT * FROM remote_actors WHERE uri = :u", {"u": uri})
    return actor_from_row(row) if row else None


def _recent_of(store: Store) -> OrderedDict[str, tuple[float, RemoteActor]]:
    recent: OrderedDict[str, tuple[float, RemoteActor]] = store.memory("recent_actors", OrderedDict)
    return recent


async def recent_by_uri(store: Store, uri: str) -> RemoteActor | None:
    """``by_uri``, from memory when read in the last ``ACTOR_CACHE_SECONDS``."""
    recent = _recent_of(store)
    now = time.monotonic()
    entry = recent.get(uri)
    if entry is not None and now - entry[0] < ACTOR_CACHE_SECONDS:
        recent.move_to_end(uri)
        return entry[1]
    actor = await by_uri(store, uri)
    if actor is None:
        recent.pop(uri, None)
        return None
    recent[uri] = (now, actor)
    recent.move_to_end(uri)
    while len(recent) > ACTOR_CACHE_SIZE:
        recent.popitem(last=False)
    return actor


async def recent_many(store: Store, uris: Iterable[str]) -> dict[str, RemoteActor]:
    """``recent_by_uri`` for each of ``uris``, those not in memory read in one query (a
    group of inbox items from many senders: one query, not one per new sender); the actors
    known, by uri."""
    recent = _recent_of(store)
    now = time.monotonic()
    found: dict[str, RemoteActor] = {}
    wanted: dict[str, str] = {}
    for uri in dict.fromkeys(uris):
        entry = recent.get(uri)
        if entry is not None and now - entry[0] < ACTOR_CACHE_SECONDS:
            found[uri] = entry[1]
        else:
            wanted[f"u{len(wanted)}"] = uri
    if not wanted:
        return found
    rows = await store.fetch_all(
        f"SELECT * FROM remote_actors WHERE uri IN ({', '.join(':' + k for k in wanted)})",  # noqa: S608
        wanted,
    )
    for row in rows:
        actor = actor_from_row(row)
        found[actor.uri] = actor
        recent[actor.uri] = (now, actor)
        recent.move_to_end(actor.uri)
    while len(recent) > ACTOR_CACHE_SIZE:
        recent.popitem(last=False)
    return found


def forget(store: Store, uri: str) -> None:
    """Drop this process's copy of an actor (its row changed or was deleted)."""
    _recent_of(store).pop(uri, None)


async def by_id(store: Store, actor_id: int) -> RemoteActor | None:
    row = await store.fetch_one("SELECT * FROM remote_actors WHERE id = :id", {"id": actor_id})
    return actor_from_row(row) if row else None


async def by_handle(store: Store, username: str, domain: str) -> RemoteActor | None:
    """A known actor by ``user`` and host (case-insensitive), or None."""
    row = await store.fetch_one(
        "SELECT * FROM remote_actors WHERE domain = :d AND LOWER(username) = :u "
        "ORDER BY fetched_at DESC LIMIT 1",
        {"d": domain.lower(), "u": username.lower()},
    )
    return actor_from_row(row) if row else None


async def is_known(store: Store, uri: str) -> bool:
    """Whether we have ever stored this actor or a key it owns."""
    found = await store.fetch_val(
        "SELECT 1 FROM remote_actors WHERE uri = :u "
        "UNION ALL SELECT 1 FROM remote_keys WHERE owner_uri = :u",
        {"u": uri},
    )
    return bool(found)


async def upsert(
    store: Store,
    profile: ActorProfile,
    *,
    now: int,
    replace_keys: bool = True,
    move_key: str | None = None,
) -> RemoteActor:
    """Insert or refresh an actor (and, with ``replace_keys``, its set of keys; see
    ``replace_owner_keys`` for ``move_key``)."""
    values: dict[str, Any] = {
        "id": new_id(now),
        "uri": profile.uri,
        "domain": domain_of(profile.uri),
        "username": profile.username,
        "display_name": profile.display_name,
        "type": profile.type,
        "url": profile.url,
        "icon": profile.icon_url,
        "inbox": profile.inbox,
        "shared": profile.shared_inbox,
        "followers": profile.followers_uri,
        "aka": json.dumps(list(profile.also_known_as)),
        "moved": profile.moved_to,
        "emojis": json.dumps([{"shortcode": e.shortcode, "url": e.url} for e in profile.emojis]),
        "now": now,
    }
    async with store.transaction():
        await store.execute(
            """INSERT INTO remote_actors (id, uri, domain, username, display_name, type, url,
                icon_url, inbox, shared_inbox, followers_uri, also_known_as, moved_to,
                emojis, document, fetched_at)
            VALUES (:id, :uri, :domain, :username, :display_name, :type, :url, :icon, :inbox,
                :shared, :followers, :aka, :moved, :emojis, '{}', :now)
            ON CONFLICT (uri) DO UPDATE SET domain = :domain, username = :username,
                display_name = :display_name, type = :type, url = :url, icon_url = :icon,
                inbox = :inbox, shared_inbox = :shared, followers_uri = :followers,
                also_known_as = :aka, moved_to = :moved, emojis = :emojis, fetched_at = :now,
                gone_at = NULL""",
            values,
        )
        if replace_keys:
            await replace_owner_keys(store, profile.uri, profile.keys, now=now, move_key=move_key)
    forget(store, profile.uri)
    actor = await by_uri(store, profile.uri)
    assert actor is not None
    return actor


async def replace_owner_keys(
    store: Store,
    owner_uri: str,
    keys: Sequence[tuple[str, str]],
    *,
    now: int,
    move_key: str | None = None,
) -> list[str]:
    """Make ``keys`` the owner's only keys; return the listed key ids left with another owner.

    A listed key that another actor holds stays that actor's, except ``move_key``: the key
    whose id the caller fetched and which led to this owner (the proof a move needs).
    """
    async with store.transaction():
        held = await _owners(store, [key_id for key_id, _ in keys])
        await store.execute("DELETE FROM remote_keys WHERE owner_uri = :o", {"o": owner_uri})
        kept: list[str] = []
        for key_id, pem in keys:
            if held.get(key_id, owner_uri) != owner_uri and key_id != move_key:
                kept.append(key_id)
                continue
            await put_key(store, key_id, owner_uri, pem, now=now, move=key_id == move_key)
    for key_id in kept:
        log.info("key %s stays with its owner; %s listed it too", key_id, owner_uri)
    return kept


async def put_key(
    store: Store, key_id: str, owner_uri: str, pem: str, *, now: int, move: bool = False
) -> None:
    """Store a key of ``owner_uri``. A key held by another actor is left alone unless
    ``move`` (the caller proved the new owner by fetching the key id)."""
    guard = "" if move else " WHERE remote_keys.owner_uri = :o"
    await store.execute(
        "INSERT INTO remote_keys (key_id, owner_uri, public_key_pem, fetched_at) "
        "VALUES (:k, :o, :p, :now) ON CONFLICT (key_id) DO UPDATE SET owner_uri = :o, "
        "public_key_pem = :p, fetched_at = :now" + guard,
        {"k": key_id, "o": owner_uri, "p": pem, "now": now},
    )


async def _owners(store: Store, key_ids: Sequence[str]) -> dict[str, str]:
    """The owner of each of ``key_ids`` that is stored."""
    if not key_ids:
        return {}
    return {key_id: key.owner_uri for key_id, key in (await keys(store, key_ids)).items()}


_SQLITE_KEYS = "SELECT * FROM remote_keys WHERE key_id IN (SELECT value FROM json_each(:ids))"
_POSTGRES_KEYS = "SELECT * FROM remote_keys WHERE key_id = ANY(:ids::text[])"


async def keys(store: Store, key_ids: Sequence[str]) -> dict[str, StoredKey]:
    """The stored keys among ``key_ids``, by key id, in one query (one statement whatever
    their number: the ids travel as one JSON or array parameter)."""
    if store.is_sqlite:
        rows = await store.fetch_all(_SQLITE_KEYS, {"ids": json.dumps(list(key_ids))})
    else:
        rows = await store.fetch_all(_POSTGRES_KEYS, {"ids": list(key_ids)})
    return {
        str(row["key_id"]): StoredKey(
            str(row["key_id"]), str(row["owner_uri"]), str(row["public_key_pem"]), row["fetched_at"]
        )
        for row in rows
    }


async def set_moved_to(store: Store, actor_id: int, target_uri: str) -> None:
    await store.execute(
        "UPDATE remote_actors SET moved_to = :t WHERE id = :id", {"t": target_uri, "id": actor_id}
    )
    recent = _recent_of(store)
    for uri in [u for u, (_, a) in recent.items() if a.id == actor_id]:
        del recent[uri]


async def set_emoji_paths(store: Store, uri: str, paths: Mapping[str, str]) -> None:
    """Add what the emoji cache made of these icon URLs (``RemoteActor.emoji_paths``) to the
    actor's, keeping at most the URLs its name names now."""
    actor = await by_uri(store, uri)
    if actor is None:
        return
    named = {e["url"] for e in actor.emojis}
    merged = {u: p for u, p in {**actor.emoji_paths, **paths}.items() if u in named}
    await store.execute(
        "UPDATE remote_actors SET emoji_paths = :p WHERE uri = :u",
        {"p": json.dumps(merged, sort_keys=True), "u": uri},
    )
    forget(store, uri)
