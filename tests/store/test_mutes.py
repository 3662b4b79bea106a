"""Mutes: one per business and account, replaced when muted again, over once expired."""

from __future__ import annotations

import pytest

from fedi_town.store import mutes
from tests.store.conftest import a_business, an_actor

pytestmark = pytest.mark.anyio


async def test_a_mute_is_replaced_listed_and_ends_at_its_expiry(store):
    # Given a business muting jo until t=5000, and sam for good
    business = await a_business(store)
    jo = await an_actor(store, "jo")
    sam = await an_actor(store, "sam")
    await mutes.mute(store, business.id, jo.id, notifications=True, expires_at=5_000, now=1_000)
    await mutes.mute(store, business.id, sam.id, notifications=True, expires_at=None, now=1_001)
    # When jo is muted again without notifications
    await mutes.mute(store, business.id, jo.id, notifications=False, expires_at=5_000, now=1_002)
    # Then one mute of jo is kept, the new one, and both are listed newest first
    found = await mutes.of_actor(store, business.id, jo.id, now=2_000)
    assert found is not None and found.notifications is False
    listed = await mutes.page(store, business.id, limit=10, max_id=None, now=2_000)
    assert [actor.id for _mute, actor in listed] == [jo.id, sam.id]
    assert await mutes.muted_uris(store, business.id, now=2_000) == {jo.uri, sam.uri}
    # And another business mutes nobody
    other = await a_business(store, "florist")
    assert await mutes.muted_uris(store, other.id, now=2_000) == set()

    # When the clock passes jo's expiry
    # Then jo's mute counts nowhere, and listing deletes it
    assert await mutes.of_actor(store, business.id, jo.id, now=5_000) is None
    assert await mutes.muted_uris(store, business.id, now=5_000) == {sam.uri}
    listed = await mutes.page(store, business.id, limit=10, max_id=None, now=5_000)
    assert [actor.id for _mute, actor in listed] == [sam.id]
    assert await mutes.unmute(store, business.id, jo.id) is False
    # When sam is unmuted, nothing is left
    assert await mutes.unmute(store, business.id, sam.id) is True
    assert await mutes.page(store, business.id, limit=10, max_id=None, now=5_000) == []
