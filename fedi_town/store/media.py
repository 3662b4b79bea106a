"""Queries on uploaded media (avatars, headers, post attachments)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fedi_town.protocol.urls import Urls
from fedi_town.store.db import Row, Store


async def belongs_to(store: Store, media_id: int, business_id: int) -> bool:
    found = await store.fetch_val(
        "SELECT 1 FROM media WHERE id = :id AND business_id = :b",
        {"id": media_id, "b": business_id},
    )
    return bool(found)


async def public_url(store: Store, urls: Urls, media_id: int | None) -> str | None:
    """The URL a media file is served at, or None."""
    if media_id is None:
        return None
    path = await store.fetch_val("SELECT path FROM media WHERE id = :id", {"id": media_id})
    return urls.media(str(path)) if path else None


@dataclass(frozen=True)
class Media:
    """An uploaded image as stored. ``path`` is its file name under the media directory."""

    id: int
    business_id: int
    post_id: int | None
    path: str
    media_type: str
    size_bytes: int
    width: int | None
    height: int | None
    blurhash: str | None
    description: str
    position: int
    created_at: int


def from_row(row: Row) -> Media:
    return Media(
        id=int(row["id"]),
        business_id=int(row["business_id"]),
        post_id=row["post_id"],
        path=str(row["path"]),
        media_type=str(row["media_type"]),
        size_bytes=int(row["size_bytes"]),
        width=row["width"],
        height=row["height"],
        blurhash=row["blurhash"],
        description=str(row["description"] or ""),
        position=int(row.get("position") or 0),
        created_at=int(row["created_at"]),
    )


async def insert(
    store: Store,
    *,
    media_id: int,
    business_id: int,
    path: str,
    media_type: str,
    size_bytes: int,
    width: int,
    height: int,
    blurhash: str | None,
    description: str,
    now: int,
) -> None:
    await store.execute(
        """INSERT INTO media (id, business_id, path, media_type, size_bytes, width, height,
            blurhash, description, created_at)
        VALUES (:id, :b, :path, :type, :size, :w, :h, :blurhash, :description, :now)""",
        {
            "id": media_id,
            "b": business_id,
            "path": path,
            "type": media_type,
            "size": size_bytes,
            "w": width,
            "h": height,
            "blurhash": blurhash,
            "description": description,
            "now": now,
        },
    )


async def by_id(store: Store, business_id: int, media_id: int) -> Media | None:
    """A media row of this business, or None (another business's media is not found)."""
    row = await store.fetch_one(
        "SELECT * FROM media WHERE id = :id AND business_id = :b",
        {"id": media_id, "b": business_id},
    )
    return from_row(row) if row else None


async def of_post(store: Store, post_id: int) -> list[Media]:
    """A post's attachments in the order the owner gave them."""
    rows = await store.fetch_all(
        "SELECT * FROM media WHERE post_id = :p ORDER BY position, id", {"p": post_id}
    )
    return [from_row(r) for r in rows]


async def of_posts(store: Store, post_ids: Sequence[int]) -> dict[int, list[Media]]:
    """Attachments of several posts at once, keyed by post id."""
    found: dict[int, list[Media]] = {p: [] for p in post_ids}
    if not post_ids:
        return found
    names = {f"p{i}": p for i, p in enumerate(post_ids)}
    rows = await store.fetch_all(
        f"SELECT * FROM media WHERE post_id IN ({', '.join(':' + n for n in names)}) "  # noqa: S608
        "ORDER BY position, id",
        names,
    )
    for row in rows:
        found[int(row["post_id"])].append(from_row(row))
    return found


async def attach(store: Store, post_id: int, media_ids: Sequence[int]) -> None:
    """Make ``media_ids`` (in this order) the attachments of ``post_id``; detach the rest."""
    await store.execute("UPDATE media SET post_id = NULL WHERE post_id = :p", {"p": post_id})
    for position, media_id in enumerate(media_ids):
        await store.execute(
            "UPDATE media SET post_id = :p, position = :pos WHERE id = :id",
            {"p": post_id, "pos": position, "id": media_id},
        )


async def set_description(store: Store, media_id: int, description: str) -> None:
    await store.execute(
        "UPDATE media SET description = :d WHERE id = :id", {"d": description, "id": media_id}
    )


async def in_use(store: Store, media: Media) -> bool:
    """True while a post shows it or its business uses it as avatar or header."""
    if media.post_id is not None:
        return True
    used = await store.fetch_val(
        "SELECT 1 FROM businesses WHERE avatar_media_id = :id OR header_media_id = :id",
        {"id": media.id},
    )
    return bool(used)


async def delete(store: Store, media_id: int) -> None:
    await store.execute("DELETE FROM media WHERE id = :id", {"id": media_id})


async def only_of_post(store: Store, post_id: int) -> list[Media]:
    """A post's attachments that nothing else uses (no business has one as avatar or
    header): what goes when the post is deleted."""
    rows = await store.fetch_all(
        "SELECT * FROM media m WHERE m.post_id = :p AND NOT EXISTS (SELECT 1 FROM businesses b "
        "WHERE b.avatar_media_id = m.id OR b.header_media_id = m.id) ORDER BY m.id",
        {"p": post_id},
    )
    return [from_row(r) for r in rows]
