"""Queries on businesses: create, find, update, soft-delete, owner tokens, counts.

``inbox_owner`` answers the personal inbox's question (which business, is it deleted?)
from a small per-process map: ids and usernames never change, and the only change that
matters, a soft delete, goes through ``mark_deleted``, which makes this process read that
business from the database again for ``INBOX_OWNER_TTL`` seconds (long enough for the
transaction around it to commit). Another process sharing the database sees a deletion
within ``INBOX_OWNER_TTL`` seconds.

A business's private key is stored sealed (``protocol.sealed``, opened by
``keys_at_rest``), in the column still named ``private_key_pem``; this module never sees
the key itself.
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fedi_town.store.db import Store, new_id

#: How long this process trusts what it read of a business for its inbox (seconds).
INBOX_OWNER_TTL = 5.0
INBOX_OWNERS_MAX = 10_000


@dataclass(frozen=True)
class Business:
    """A business as stored. ``sealed_private_key`` never leaves the server."""

    id: int
    username: str
    display_name: str
    summary: str
    website: str | None
    phone: str | None
    address: str | None
    fields: list[dict[str, str]]
    avatar_media_id: int | None
    header_media_id: int | None
    manually_approves_followers: bool
    discoverable: bool
    indexable: bool
    public_key_pem: str
    #: the private key PEM sealed with the key encryption keys (``keys_at_rest``)
    sealed_private_key: str
    created_at: int
    updated_at: int
    deleted_at: int | None
    # The structured profile (docs/business-data.md); ``fedi_town.business`` reads these.
    #: a schema.org ``LocalBusiness`` subtype ("Bakery"), or None
    category: str | None = None
    #: postal address parts and coordinates: street_address, locality, region,
    #: postal_code, country, latitude, longitude (each optional)
    location: dict[str, Any] = field(default_factory=dict)
    #: where a business without a shopfront works; when set, no street address is published
    service_area: str | None = None
    email: str | None = None
    price_range: str | None = None
    #: an IANA zone name; None means the instance's default zone
    timezone: str | None = None
    #: weekly hours: {"mon": [["07:00", "18:00"]], ...}
    hours: dict[str, Any] = field(default_factory=dict)
    #: dated hours overriding the week: [{"start", "end", "hours", "label"}]
    special_hours: list[dict[str, Any]] = field(default_factory=list)
    notice_text: str | None = None
    notice_until: int | None = None
    in_directory: bool = True
    #: "business", or "directory" for the instance's high-street actor
    kind: str = "business"
    profile_digest: str | None = None
    profile_check_at: int | None = None
    #: actor ids of the owner's other accounts (alsoKnownAs; docs/moving.md)
    also_known_as: tuple[str, ...] = ()
    #: the actor id this business moved to (movedTo), and when; it posts no more
    moved_to: str | None = None
    moved_at: int | None = None
    #: hashtag names (no "#") the owner features on the profile, in their order
    featured_tags: list[str] = field(default_factory=list)
    #: who may quote its posts by default: anyone | followers | nobody (FEP-044f)
    quote_policy: str = "anyone"

    def __repr__(self) -> str:  # never print the (sealed) private key
        return f"Business(id={self.id}, username={self.username!r})"


def _business(row: Mapping[str, Any]) -> Business:
    return Business(
        id=int(row["id"]),
        username=row["username"],
        display_name=row["display_name"],
        summary=row["summary"],
        website=row["website"],
        phone=row["phone"],
        address=row["address"],
        fields=json.loads(row["fields"]),
        avatar_media_id=row["avatar_media_id"],
        header_media_id=row["header_media_id"],
        manually_approves_followers=bool(row["manually_approves_followers"]),
        discoverable=bool(row["discoverable"]),
        indexable=bool(row["indexable"]),
        public_key_pem=row["public_key_pem"],
        sealed_private_key=row["private_key_pem"],
        created_at=int(row["created_at"]),
        updated_at=int(row["updated_at"]),
        deleted_at=row["deleted_at"],
        category=row["category"],
        location=json.loads(row["location"]),
        service_area=row["service_area"],
        email=row["email"],
        price_range=row["price_range"],
        timezone=row["timezone"],
        hours=json.loads(row["hours"]),
        special_hours=json.loads(row["special_hours"]),
        notice_text=row["notice_text"],
        notice_until=row["notice_until"],
        in_directory=bool(row["in_directory"]),
        kind=row["kind"],
        profile_digest=row["profile_digest"],
        profile_check_at=row["profile_check_at"],
        also_known_as=tuple(json.loads(row["also_known_as"])),
        moved_to=row["moved_to"],
        moved_at=row["moved_at"],
        featured_tags=json.loads(row["featured_tags"]),
        quote_policy=row["quote_policy"],
    )


#: Profile columns an owner may change (PATCH); everything else is managed by the server.
EDITABLE = (
    "display_name",
    "summary",
    "website",
    "phone",
    "address",
    "fields",
    "avatar_media_id",
    "header_media_id",
    "manually_approves_followers",
    "discoverable",
    "indexable",
    "category",
    "location",
    "service_area",
    "email",
    "price_range",
    "timezone",
    "hours",
    "special_hours",
    "notice_text",
    "notice_until",
    "in_directory",
    "featured_tags",
    "quote_policy",
)

#: Editable columns stored as JSON text.
JSON_COLUMNS = frozenset({"fields", "location", "hours", "special_hours", "featured_tags"})


async def create(
    store: Store,
    *,
    username: str,
    profile: Mapping[str, Any],
    owner_token_hash: str,
    sealed_private_key: str,
    public_key_pem: str,
    now: int,
) -> Business | None:
    """Insert a business; ``None`` when the username (case-insensitively) is taken.

    ``sealed_private_key`` is the private key as ``keys_at_rest.seal`` made it."""
    values: dict[str, Any] = {
        "id": new_id(now),
        "username": username,
        "username_lower": username.lower(),
        "display_name": profile.get("display_name", username),
        "summary": profile.get("summary", ""),
        "website": profile.get("website"),
        "phone": profile.get("phone"),
        "address": profile.get("address"),
        "fields": json.dumps(profile.get("fields", [])),
        "mafs": bool(profile.get("manually_approves_followers", False)),
        "discoverable": bool(profile.get("discoverable", True)),
        "indexable": bool(profile.get("indexable", True)),
        "token": owner_token_hash,
        "private": sealed_private_key,
        "public": public_key_pem,
        "now": now,
    }
    async with store.transaction():
        taken = await store.fetch_val(
            "SELECT 1 FROM businesses WHERE username_lower = :u", {"u": username.lower()}
        )
        if taken:
            return None
        await store.execute(
            """INSERT INTO businesses (id, username, username_lower, display_name, summary,
                website, phone, address, fields, manually_approves_followers, discoverable,
                indexable, owner_token_hash, private_key_pem, public_key_pem,
                created_at, updated_at)
            VALUES (:id, :username, :username_lower, :display_name, :summary, :website, :phone,
                :address, :fields, :mafs, :discoverable, :indexable, :token, :private, :public,
                :now, :now)""",
            values,
        )
    found = await by_username(store, username, include_deleted=True)
    assert found is not None
    return found


async def by_username(
    store: Store, username: str, *, include_deleted: bool = False
) -> Business | None:
    """The business with this username (any case), or None."""
    row = await store.fetch_one(
        "SELECT * FROM businesses WHERE username_lower = :u", {"u": username.lower()}
    )
    if row is None or (row["deleted_at"] is not None and not include_deleted):
        return None
    return _business(row)


@dataclass(frozen=True)
class InboxOwner:
    """What a personal inbox needs of its business."""

    id: int
    username: str
    deleted: bool


class _InboxOwners:
    def __init__(self) -> None:
        #: lowercase username -> (read at, owner)
        self.entries: dict[str, tuple[float, InboxOwner]] = {}
        #: business id -> until when it is read from the database (it changed here)
        self.uncached: dict[int, float] = {}


def _owners(store: Store) -> _InboxOwners:
    return store.memory("inbox_owners", _InboxOwners)


async def inbox_owner(store: Store, username: str) -> InboxOwner | None:
    """The business whose personal inbox is ``/users/{username}/inbox`` (any case), deleted
    ones included; None if there is none. From memory for ``INBOX_OWNER_TTL`` seconds."""
    owners = _owners(store)
    key = username.lower()
    now = time.monotonic()
    entry = owners.entries.get(key)
    if entry is not None and now - entry[0] < INBOX_OWNER_TTL:
        return entry[1]
    business = await by_username(store, username, include_deleted=True)
    if business is None:
        owners.entries.pop(key, None)  # unknown names are not kept: one may be created
        return None
    found = InboxOwner(business.id, business.username, business.deleted_at is not None)
    if owners.uncached.get(business.id, 0.0) <= now:
        owners.uncached.pop(business.id, None)
        if len(owners.entries) >= INBOX_OWNERS_MAX:
            owners.entries.clear()
        owners.entries[key] = (now, found)
    return found


def _forget_inbox_owner(store: Store, business_id: int) -> None:
    owners = _owners(store)
    owners.uncached[business_id] = time.monotonic() + INBOX_OWNER_TTL
    for key in [k for k, (_, o) in owners.entries.items() if o.id == business_id]:
        del owners.entries[key]


async def by_id(store: Store, business_id: int) -> Business | None:
    row = await store.fetch_one("SELECT * FROM businesses WHERE id = :id", {"id": business_id})
    return _business(row) if row else None


async def by_token_hash(store: Store, token_hash: str) -> Business | None:
    """The live business whose owner token hashes to ``token_hash``.

    The index finds the row by hash; the final check is constant-time all the same.
    """
    row = await store.fetch_one(
        "SELECT * FROM businesses WHERE owner_token_hash = :h AND deleted_at IS NULL",
        {"h": token_hash},
    )
    if row is None or not hmac.compare_digest(str(row["owner_token_hash"]), token_hash):
        return None
    return _business(row)


async def list_all(store: Store, *, include_deleted: bool = False) -> list[Business]:
    sql = "SELECT * FROM businesses"
    if not include_deleted:
        sql += " WHERE deleted_at IS NULL"
    rows = await store.fetch_all(sql + " ORDER BY username_lower")
    return [_business(r) for r in rows]


async def update(store: Store, business_id: int, changes: Mapping[str, Any], *, now: int) -> None:
    """Apply profile changes (keys from ``EDITABLE``) and bump ``updated_at``."""
    sets = []
    values: dict[str, Any] = {"id": business_id, "now": now}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise KeyError(key)
        sets.append(f"{key} = :{key}")
        values[key] = json.dumps(value) if key in JSON_COLUMNS else value
    sets.append("updated_at = :now")
    await store.execute(f"UPDATE businesses SET {', '.join(sets)} WHERE id = :id", values)  # noqa: S608


async def profile_due(store: Store, now: int, *, limit: int = 100) -> list[Business]:
    """Live businesses whose actor may read differently from ``profile_check_at`` on."""
    rows = await store.fetch_all(
        "SELECT * FROM businesses WHERE profile_check_at <= :now AND deleted_at IS NULL "
        "ORDER BY profile_check_at LIMIT :limit",
        {"now": now, "limit": limit},
    )
    return [_business(r) for r in rows]


async def record_profile(
    store: Store,
    business_id: int,
    *,
    digest: str,
    check_at: int | None,
    expected_check_at: int | None = None,
    claim: bool = False,
) -> bool:
    """Remember the digest of the actor last sent and when it may change next.

    With ``claim``, only if ``profile_check_at`` still is ``expected_check_at``: of two
    workers looking at one business at once, one wins and sends the Update (on PostgreSQL
    the second waits for the first's row lock, then matches nothing)."""
    sql = "UPDATE businesses SET profile_digest = :d, profile_check_at = :c WHERE id = :id"
    values: dict[str, Any] = {"d": digest, "c": check_at, "id": business_id}
    if claim:
        sql += " AND profile_check_at = :e"
        values["e"] = expected_check_at
    return await store.write_count(sql, values) == 1


async def set_token_hash(store: Store, business_id: int, token_hash: str, *, now: int) -> None:
    await store.execute(
        "UPDATE businesses SET owner_token_hash = :h, updated_at = :now WHERE id = :id",
        {"h": token_hash, "now": now, "id": business_id},
    )


async def mark_deleted(store: Store, business_id: int, *, now: int) -> None:
    """Soft delete: the row (and key) stays so the Delete can be signed and 410 served."""
    await store.execute(
        "UPDATE businesses SET deleted_at = :now, owner_token_hash = :gone WHERE id = :id",
        {"now": now, "gone": f"deleted:{business_id}", "id": business_id},
    )
    _forget_inbox_owner(store, business_id)


async def counts(store: Store, business_id: int) -> dict[str, int]:
    """Followers, following and published posts of a business."""
    followers = await store.fetch_val(
        "SELECT COUNT(*) FROM follows WHERE business_id = :b AND state = 'accepted'",
        {"b": business_id},
    )
    posts = await store.fetch_val(
        "SELECT COUNT(*) FROM posts WHERE business_id = :b AND published_at IS NOT NULL "
        "AND deleted_at IS NULL AND visibility IN ('public', 'unlisted')",
        {"b": business_id},
    )
    following = await store.fetch_val(
        "SELECT COUNT(*) FROM following WHERE business_id = :b AND state = 'accepted'",
        {"b": business_id},
    )
    return {
        "followers": int(followers or 0),
        "following": int(following or 0),
        "posts": int(posts or 0),
    }


async def private_keys(store: Store) -> list[tuple[int, str]]:
    """(id, stored private key) of every business, deleted ones included."""
    rows = await store.fetch_all("SELECT id, private_key_pem FROM businesses ORDER BY id")
    return [(int(row["id"]), str(row["private_key_pem"])) for row in rows]


async def replace_private_key(store: Store, business_id: int, old: str, new: str) -> None:
    """Store ``new`` as the business's private key if it still holds ``old`` (so two
    processes sealing at once never undo each other)."""
    await store.execute(
        "UPDATE businesses SET private_key_pem = :new WHERE id = :id AND private_key_pem = :old",
        {"new": new, "id": business_id, "old": old},
    )


async def replace_kv(store: Store, key: str, old: str, new: str) -> None:
    """Store ``new`` under ``key`` if it still holds ``old``."""
    await store.execute(
        "UPDATE instance_kv SET value = :new WHERE key = :k AND value = :old",
        {"new": new, "k": key, "old": old},
    )


async def get_kv(store: Store, key: str) -> str | None:
    value = await store.fetch_val("SELECT value FROM instance_kv WHERE key = :k", {"k": key})
    return None if value is None else str(value)


async def put_kv_if_absent(store: Store, key: str, value: str) -> str:
    """Store ``value`` unless the key exists; return what is stored (first writer wins)."""
    await store.execute(
        "INSERT INTO instance_kv (key, value) VALUES (:k, :v) ON CONFLICT (key) DO NOTHING",
        {"k": key, "v": value},
    )
    stored = await get_kv(store, key)
    assert stored is not None
    return stored


async def lock(store: Store, business_id: int) -> None:
    """Serialise writers of one business for the rest of the current transaction.

    PostgreSQL takes the business row's lock; SQLite already runs one write transaction
    at a time. Used where a rule spans rows (at most 5 pinned posts).
    """
    if not store.is_sqlite:
        await store.fetch_val(
            "SELECT id FROM businesses WHERE id = :id FOR UPDATE", {"id": business_id}
        )


async def set_also_known_as(
    store: Store, business_id: int, aliases: list[str], *, now: int
) -> None:
    """Name the owner's other accounts (actor ids): the actor's ``alsoKnownAs``."""
    await store.execute(
        "UPDATE businesses SET also_known_as = :aka, updated_at = :now WHERE id = :id",
        {"aka": json.dumps(aliases), "now": now, "id": business_id},
    )


async def mark_moved(store: Store, business_id: int, target: str, *, now: int) -> bool:
    """Record that the business moved to ``target`` (its ``movedTo``); False when it had
    moved already (the first move stands: two at once cannot both send a Move)."""
    changed = await store.write_count(
        "UPDATE businesses SET moved_to = :t, moved_at = :now, updated_at = :now "
        "WHERE id = :id AND moved_to IS NULL",
        {"t": target, "now": now, "id": business_id},
    )
    return changed == 1
