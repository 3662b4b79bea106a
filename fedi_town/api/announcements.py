"""The post that announces an offer or an event to followers, and what both share.

An offer or event is told to followers as an ordinary public post (a ``Note``), written by
the post commands (``outbound.commands``) inside the caller's transaction, so the offer or
event row and its post (with its ``Create``, ``Update`` or ``Delete`` and delivery rows)
are written together or not at all. The Markdown of that post comes from
``protocol.events``. Editing the offer edits the post (``Update{Note}``); deleting it
deletes the post (``Delete{Tombstone}``). A post the owner already deleted through the
posts API stays deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fedi_town.api.posts import media_view
from fedi_town.errors import Unprocessable
from fedi_town.outbound import commands, profile
from fedi_town.protocol.ids import body_id
from fedi_town.services import Services
from fedi_town.store import media as media_store
from fedi_town.store import posts as post_store
from fedi_town.store.businesses import Business
from fedi_town.store.effects import BusinessChanged
from fedi_town.store.media import Media
from fedi_town.store.posts import Post


def problem(pointer: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"pointer": pointer, "message": message}])


async def check_media(
    services: Services, business: Business, raw: Any, own_post_id: int | None
) -> Media | None:
    """The image ``media_id`` names: uploaded by ``business``, an image, and attached to no
    post but ``own_post_id``. None for null; else 422 naming ``/media_id``."""
    if raw is None:
        return None
    media_id = body_id(raw, "/media_id")
    found = await media_store.by_id(services.store, business.id, media_id)
    if found is None:
        raise problem("/media_id", f"no media {media_id} uploaded by this business")
    if not found.media_type.startswith("image/"):
        raise problem("/media_id", f"media {media_id} is not an image")
    if found.post_id is not None and found.post_id != own_post_id:
        raise problem("/media_id", f"media {media_id} is attached to another post")
    return found


async def changed_media(
    services: Services,
    business: Business,
    data: Mapping[str, Any],
    media_id: int | None,
    own_post_id: int | None,
) -> Media | None:
    """The image after a PATCH: the one ``data`` names (checked), else the current one."""
    if "media_id" in data:
        return await check_media(services, business, data["media_id"], own_post_id)
    if media_id is None:
        return None
    return await media_store.by_id(services.store, business.id, media_id)


async def media_json(services: Services, business: Business, media_id: int | None) -> Any:
    if media_id is None:
        return None
    found = await media_store.by_id(services.store, business.id, media_id)
    return media_view(services, found) if found is not None else None


async def publish(services: Services, business: Business, source: str, media: Media | None) -> Post:
    """Write the public post announcing something and its ``Create`` to followers (inside
    the caller's transaction)."""
    data: dict[str, Any] = {"content": source, "visibility": "public"}
    if media is not None:
        data["media_ids"] = [str(media.id)]
    created = await commands.create_post(services, business, data)
    return created.post


async def live_post(services: Services, business: Business, post_id: int | None) -> Post | None:
    """The announcing post if it still exists (the owner may have deleted it)."""
    if post_id is None:
        return None
    return await post_store.by_id(services.store, business.id, post_id)


async def republish(
    services: Services,
    business: Business,
    post_id: int | None,
    source: str,
    media: Media | None,
) -> None:
    """Edit the announcing post (``Update{Note}`` to everyone who got it), if it exists,
    and the actor's offer and event fields."""
    services.store.after_commit(BusinessChanged(business.username))  # its pages changed
    post = await live_post(services, business, post_id)
    if post is not None:
        data: dict[str, Any] = {
            "content": source,
            "media_ids": [str(media.id)] if media is not None else [],
        }
        await commands.edit_post(services, business, post, data)
    await listed(services, business)


async def listed(services: Services, business: Business) -> None:
    """The actor shows the current offer and the next event: send it again if that changed
    (after the offer or event row is written, in the same transaction)."""
    await profile.refresh(services, business)


async def withdraw(services: Services, business: Business, post_id: int | None) -> None:
    """Delete the announcing post (``Delete{Tombstone}``), if it exists, and the actor's
    offer and event fields."""
    services.store.after_commit(BusinessChanged(business.username))  # its pages changed
    post = await live_post(services, business, post_id)
    if post is not None:
        await commands.delete_post(services, business, post)
    await listed(services, business)
