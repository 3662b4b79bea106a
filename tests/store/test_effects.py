"""After-commit effects: carried by a transaction, run once it commits, dropped on rollback."""

from __future__ import annotations

import pytest

from fedi_town.store import queue as q
from fedi_town.store.effects import BusinessChanged, FollowersChanged, Wake

pytestmark = pytest.mark.anyio


class Boom(Exception):
    pass


async def test_an_effect_reaches_its_subscribers_only_after_the_commit(store):
    # Given a subscriber to Wake effects
    seen: list[object] = []
    store.on_commit(Wake, seen.append)
    # When a transaction carries one
    async with store.transaction():
        await store.execute("UPDATE inbox_items SET state = state")
        store.after_commit(Wake(q.INBOX))
        # Then nothing is told before the commit
        assert seen == []
    # And the subscriber hears it once committed
    assert seen == [Wake(q.INBOX)]


async def test_a_rolled_back_transaction_drops_its_effects(store):
    seen: list[object] = []
    store.on_commit(BusinessChanged, seen.append)
    with pytest.raises(Boom):
        async with store.transaction():
            store.after_commit(BusinessChanged("bakery"))
            raise Boom
    assert seen == []


async def test_a_rolled_back_savepoint_drops_only_its_own_effects(store):
    seen: list[object] = []
    store.on_commit(BusinessChanged, seen.append)
    async with store.transaction():
        store.after_commit(BusinessChanged("kept"))
        with pytest.raises(Boom):
            async with store.transaction():
                store.after_commit(BusinessChanged("dropped"))
                raise Boom
        async with store.transaction():
            store.after_commit(BusinessChanged("inner"))
    assert seen == [BusinessChanged("kept"), BusinessChanged("inner")]


async def test_outside_a_transaction_an_effect_runs_at_once(store):
    seen: list[object] = []
    stop = store.on_commit(FollowersChanged, seen.append)
    store.after_commit(FollowersChanged())
    assert seen == [FollowersChanged()]
    # And once unsubscribed, nothing more arrives
    stop()
    store.after_commit(FollowersChanged())
    assert seen == [FollowersChanged()]


async def test_a_failing_subscriber_neither_undoes_the_commit_nor_silences_the_others(store):
    seen: list[object] = []

    def broken(effect: Wake) -> None:
        raise RuntimeError("listener trouble")

    store.on_commit(Wake, broken)
    store.on_commit(Wake, seen.append)
    async with store.transaction():
        store.after_commit(Wake())
    assert seen == [Wake()]


async def test_the_read_cache_drops_a_business_once_its_change_commits(app_client):
    # Given a business whose actor document is kept in memory
    from tests.conftest import create_business

    ap = {"Accept": "application/activity+json"}
    await create_business(app_client, "bakery", display_name="Corner Bakery")
    first = await app_client.get("/users/bakery", headers=ap)
    store = app_client.services.store
    # When its name changes in a transaction that says so
    async with store.transaction():
        await store.execute("UPDATE businesses SET display_name = 'Renamed'")
        store.after_commit(BusinessChanged("bakery"))
    # Then the next fetch builds it again
    second = await app_client.get("/users/bakery", headers=ap)
    assert first.json()["name"] == "Corner Bakery" and second.json()["name"] == "Renamed"
