"""Queries on uploaded media (avatars, headers, post attachments)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedi_town.store.db import Store

if TYPE_CHECKING:
    from fedi_town.services import Services


async def belongs_to(store: Store, media_id: int, business_id: int) -> bool:
    found = await store.fetch_val(
        "SELECT 1 FROM media WHERE id = :id AND business_id = :b",
        {"id": media_id, "b": business_id},
    )
    return bool(found)


async def public_url(services: Services, media_id: int | None) -> str | None:
    """The URL a media file is served at, or None."""
    if media_id is None:
        return None
    path = await services.store.fetch_val("SELECT path FROM media WHERE id = :id", {"id": media_id})
    return services.urls.media(str(path)) if path else None
