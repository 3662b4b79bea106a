"""Uploaded media rows: owned by one business, attached in order, in use while shown."""

from __future__ import annotations

import pytest

from fedi_town.protocol.urls import Urls
from fedi_town.store import businesses, media
from fedi_town.store.db import new_id, now_ms
from tests.store.conftest import a_business, a_post

pytestmark = pytest.mark.anyio


async def an_upload(store, business, path: str = "a.webp") -> int:
    media_id = new_id()
    await media.insert(
        store,
        media_id=media_id,
        business_id=business.id,
        path=path,
        media_type="image/webp",
        size_bytes=1234,
        width=64,
        height=48,
        blurhash="LKO2?U%2Tw=w",
        description="",
        now=now_ms(),
    )
    return media_id


async def test_an_upload_is_found_by_its_business_only(store):
    bakery, cafe = await a_business(store, "bakery"), await a_business(store, "cafe")
    media_id = await an_upload(store, bakery)
    found = await media.by_id(store, bakery.id, media_id)
    assert found is not None and (found.path, found.width, found.height) == ("a.webp", 64, 48)
    assert await media.belongs_to(store, media_id, bakery.id)
    assert await media.by_id(store, cafe.id, media_id) is None
    assert not await media.belongs_to(store, media_id, cafe.id)


async def test_attachments_keep_the_owners_order_and_a_new_list_replaces_the_old(store):
    # Given three uploads and a post
    business = await a_business(store)
    first, second, third = [await an_upload(store, business, f"{n}.webp") for n in range(3)]
    post = await a_post(store, business)
    # When they are attached in an order, then the list is changed
    await media.attach(store, post.id, [third, first])
    before = [m.id for m in await media.of_post(store, post.id)]
    await media.attach(store, post.id, [second])
    # Then the order given is kept, and a detached upload is free again
    assert before == [third, first]
    assert [m.id for m in (await media.of_posts(store, [post.id]))[post.id]] == [second]
    detached = await media.by_id(store, business.id, third)
    assert detached is not None and detached.post_id is None


async def test_an_upload_is_in_use_while_a_post_or_the_profile_shows_it(store):
    business = await a_business(store)
    avatar, loose = (
        await an_upload(store, business, "avatar.webp"),
        await an_upload(store, business, "loose.webp"),
    )
    await businesses.update(store, business.id, {"avatar_media_id": avatar}, now=now_ms())
    shown = await media.by_id(store, business.id, avatar)
    unused = await media.by_id(store, business.id, loose)
    assert shown is not None and unused is not None
    assert await media.in_use(store, shown)
    assert not await media.in_use(store, unused)
    await media.delete(store, loose)
    assert await media.by_id(store, business.id, loose) is None


async def test_a_description_is_stored_and_the_public_url_names_the_file(store, settings):
    business = await a_business(store)
    media_id = await an_upload(store, business)
    await media.set_description(store, media_id, "A loaf of rye")
    found = await media.by_id(store, business.id, media_id)
    assert found is not None and found.description == "A loaf of rye"
    urls = Urls(settings.base_url)
    assert await media.public_url(store, urls, media_id) == urls.media("a.webp")
    assert await media.public_url(store, urls, None) is None
