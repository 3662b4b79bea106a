"""Queries on ``remote_emojis``: custom emoji images, fetched once per icon URL.

A row is keyed by ``digest``, the SHA-256 of the icon URL (hex), which is also the path it
is served under (``/proxy/emoji/{digest}``). ``state`` is ``ok`` (the image is in the media
store under ``media_key``) or ``refused`` (``reason`` says why: too big, not an image,
unreachable, a private address); either way the URL is not fetched again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

from fedi_town.store.db import Store


@dataclass(frozen=True)
class CachedEmoji:
    digest: str
    url: str
    state: str
    media_type: str | None
    media_key: str | None
    width: int | None
    height: int | None
    reason: str | None


def digest_of(url: str) -> str:
    """The key (and served path part) of an icon URL."""
    return hashlib.sha256(url.encode()).hexdigest()


async def known(store: Store, digests: Collection[str]) -> dict[str, CachedEmoji]:
    """The rows of these digests that exist, by digest."""
    if not digests:
        return {}
    names = {f"d{i}": d for i, d in enumerate(sorted(set(digests)))}
    rows = await store.fetch_all(
        f"SELECT * FROM remote_emojis WHERE digest IN ({', '.join(':' + n for n in names)})",  # noqa: S608
        names,
    )
    found = {}
    for row in rows:
        found[str(row["digest"])] = CachedEmoji(
            digest=str(row["digest"]),
            url=str(row["url"]),
            state=str(row["state"]),
            media_type=row["media_type"],
            media_key=row["media_key"],
            width=row["width"],
            height=row["height"],
            reason=row["reason"],
        )
    return found


async def by_digest(store: Store, digest: str) -> CachedEmoji | None:
    return (await known(store, [digest])).get(digest)


async def record(store: Store, emoji: CachedEmoji, now: int) -> None:
    """Remember what came of fetching an icon (the first answer stays)."""
    await store.execute(
        "INSERT INTO remote_emojis (digest, url, state, media_type, media_key, width, height, "
        "reason, fetched_at) VALUES (:d, :u, :s, :t, :k, :w, :h, :r, :now) "
        "ON CONFLICT (digest) DO NOTHING",
        {
            "d": emoji.digest,
            "u": emoji.url,
            "s": emoji.state,
            "t": emoji.media_type,
            "k": emoji.media_key,
            "w": emoji.width,
            "h": emoji.height,
            "r": emoji.reason,
            "now": now,
        },
    )
