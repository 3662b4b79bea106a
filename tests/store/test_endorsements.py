"""store.endorsements: the accounts a business features, once each, newest first. Both
backends."""

from __future__ import annotations

import pytest

from fedi_town.store import endorsements
from tests.inbound.helpers import add_remote_actor

pytestmark = pytest.mark.anyio


async def test_endorsed_accounts_are_kept_once_and_paged(store):
    first = await add_remote_actor(store, "https://m.example/users/ann")
    second = await add_remote_actor(store, "https://m.example/users/ben")
    assert await endorsements.add(store, 1, first.id, now=1000)
    assert await endorsements.add(store, 1, second.id, now=2000)
    assert not await endorsements.add(store, 1, first.id, now=3000)
    rows = await endorsements.page(store, 1, limit=10)
    assert [a.uri for _i, a in rows] == [second.uri, first.uri]
    older = await endorsements.page(store, 1, limit=10, max_id=rows[0][0])
    assert [a.uri for _i, a in older] == [first.uri]
    assert await endorsements.is_endorsed(store, 1, first.id)
    assert not await endorsements.is_endorsed(store, 2, first.id)
    assert await endorsements.remove(store, 1, first.id)
    assert not await endorsements.remove(store, 1, first.id)
    assert [a.uri for _i, a in await endorsements.page(store, 1, limit=10)] == [second.uri]
