"""Who a business follows: one row per followed actor, pending until accepted, and the
lookups the handlers, the API, the collection and blocks use."""

from __future__ import annotations

import pytest

from fedi_town.store import following
from tests.store.conftest import a_business, an_actor

pytestmark = pytest.mark.anyio


async def test_a_follow_is_pending_then_accepted_and_only_then_listed(store):
    # Given a business that asked to follow jo
    business = await a_business(store)
    jo = await an_actor(store, "jo")
    row = await following.insert(
        store, business_id=business.id, actor_id=jo.id, follow_uri="https://us/f/1", now=1
    )
    # Then it is pending, found by its Follow's id, and not yet in the collection
    assert row.state == "pending"
    assert await following.by_follow_uri(store, "https://us/f/1", jo.id) == row
    assert await following.count_accepted(store, business.id) == 0
    assert await following.accepted_uris(store, business.id, limit=10, offset=0) == []
    # When jo accepts
    await following.set_state(store, row.id, "accepted", now=2)
    # Then the collection lists jo
    assert await following.count_accepted(store, business.id) == 1
    assert await following.accepted_uris(store, business.id, limit=10, offset=0) == [jo.uri]


async def test_pages_are_newest_first_and_filter_by_state(store):
    business = await a_business(store)
    ids = []
    for n, name in enumerate(["jo", "al", "cy"]):
        actor = await an_actor(store, name)
        row = await following.insert(
            store, business_id=business.id, actor_id=actor.id, follow_uri=f"f:{name}", now=n + 1
        )
        ids.append(row.id)
    await following.set_state(store, ids[0], "accepted", now=9)
    newest = await following.page(store, business.id, limit=2)
    assert [a.username for _, a in newest] == ["cy", "al"]
    older = await following.page(store, business.id, limit=2, max_id=newest[-1][0].id)
    assert [a.username for _, a in older] == ["jo"]
    accepted = await following.page(store, business.id, limit=5, state="accepted")
    assert [a.username for _, a in accepted] == ["jo"]


async def test_states_of_tells_which_followers_the_business_follows(store):
    business = await a_business(store)
    jo, al = await an_actor(store, "jo"), await an_actor(store, "al")
    await following.insert(store, business_id=business.id, actor_id=jo.id, follow_uri="f:jo", now=1)
    assert await following.states_of(store, business.id, [jo.id, al.id]) == {jo.id: "pending"}
    assert await following.states_of(store, business.id, []) == {}


async def test_matching_finds_follows_a_block_covers(store):
    # Given follows of jo at remote.test, of al at a subdomain, and of cy elsewhere
    business = await a_business(store)
    other = await a_business(store, "cafe")
    for name, host in [("jo", "remote.test"), ("al", "sub.remote.test"), ("cy", "else.test")]:
        actor = await an_actor(store, name, host)
        await following.insert(
            store, business_id=business.id, actor_id=actor.id, follow_uri=f"f:{name}", now=1
        )
    # Then a domain block covers the domain and its subdomains, an actor block one actor
    by_domain = await following.matching(store, business_id=business.id, domain="remote.test")
    assert sorted(a.username for _, a in by_domain) == ["al", "jo"]
    by_actor = await following.matching(
        store, business_id=None, actor_uri="https://else.test/users/cy"
    )
    assert [a.username for _, a in by_actor] == ["cy"]
    assert await following.matching(store, business_id=other.id, domain="remote.test") == []


async def test_deleting_a_follow_forgets_it(store):
    business = await a_business(store)
    jo = await an_actor(store, "jo")
    row = await following.insert(
        store, business_id=business.id, actor_id=jo.id, follow_uri="f:jo", now=1
    )
    await following.delete(store, row.id)
    assert await following.of_actor(store, business.id, jo.id) is None
    assert await following.by_id(store, business.id, row.id) is None
