"""Businesses: created once per name whatever its case, found, soft-deleted, counted."""

from __future__ import annotations

import pytest

from fedi_town.store import businesses, following, social
from fedi_town.store.db import now_ms
from tests.store.conftest import a_business, a_post, an_actor

pytestmark = pytest.mark.anyio


async def test_a_username_is_taken_whatever_its_case(store):
    # Given a business named bakery
    first = await a_business(store, "bakery")
    # When another is created as BAKERY
    again = await businesses.create(
        store,
        username="BAKERY",
        profile={},
        owner_token_hash="other",
        sealed_private_key="sealed",
        public_key_pem="public",
        now=now_ms(),
    )
    # Then it is refused, and the first is found by either spelling
    assert again is None
    found = await businesses.by_username(store, "Bakery")
    assert found is not None and found.id == first.id


async def test_a_business_is_found_by_its_owner_token_hash_until_deleted(store):
    # Given a business
    business = await a_business(store)
    assert (await businesses.by_token_hash(store, "hash-bakery")).id == business.id
    # When it is deleted
    await businesses.mark_deleted(store, business.id, now=now_ms())
    # Then its token no longer finds it, nor does its name, though the row stays
    assert await businesses.by_token_hash(store, "hash-bakery") is None
    assert await businesses.by_username(store, "bakery") is None
    kept = await businesses.by_username(store, "bakery", include_deleted=True)
    assert kept is not None and kept.deleted_at is not None
    assert [b.id for b in await businesses.list_all(store)] == []


async def test_the_inbox_owner_of_a_deleted_business_says_it_is_deleted(store):
    business = await a_business(store)
    owner = await businesses.inbox_owner(store, "bakery")
    assert owner is not None and owner.id == business.id and not owner.deleted
    await businesses.mark_deleted(store, business.id, now=now_ms())
    deleted = await businesses.inbox_owner(store, "bakery")
    assert deleted is not None and deleted.deleted
    assert await businesses.inbox_owner(store, "nobody") is None


async def test_counts_are_accepted_followers_and_published_public_posts(store):
    # Given one accepted and one pending follower, a published post and a scheduled one
    business = await a_business(store)
    for name, state in [("jo", "accepted"), ("al", "pending")]:
        actor = await an_actor(store, name)
        await social.insert_follow(
            store,
            business_id=business.id,
            actor_id=actor.id,
            state=state,
            follow_uri=None,
            follow_document=None,
            now=now_ms(),
        )
        row = await following.insert(
            store, business_id=business.id, actor_id=actor.id, follow_uri=f"f:{name}", now=1
        )
        if state == "accepted":
            await following.set_state(store, row.id, "accepted", now=2)
    await a_post(store, business)
    await a_post(store, business, published=False, scheduled_at=2**40)
    # When the business's counts are read
    counts = await businesses.counts(store, business.id)
    # Then only what the public sees is counted
    assert counts == {"followers": 1, "following": 1, "posts": 1}


async def test_a_key_value_is_written_by_the_first_writer_only(store):
    assert await businesses.put_kv_if_absent(store, "k", "first") == "first"
    assert await businesses.put_kv_if_absent(store, "k", "second") == "first"
    await businesses.replace_kv(store, "k", "stale", "third")
    assert await businesses.get_kv(store, "k") == "first"
    await businesses.replace_kv(store, "k", "first", "third")
    assert await businesses.get_kv(store, "k") == "third"


async def test_a_private_key_is_replaced_only_if_it_still_holds_the_old_value(store):
    business = await a_business(store)
    await businesses.replace_private_key(store, business.id, "not-it", "new")
    assert await businesses.private_keys(store) == [(business.id, "sealed-bakery")]
    await businesses.replace_private_key(store, business.id, "sealed-bakery", "new")
    assert await businesses.private_keys(store) == [(business.id, "new")]


async def test_a_business_never_shows_its_key_in_its_repr(store):
    business = await a_business(store)
    assert repr(business) == f"Business(id={business.id}, username='bakery')"


async def test_businesses_are_due_for_a_profile_look_from_their_check_time_on(store):
    # Given one business due at 1000, one at 3000, one never, and a deleted one due at 500
    due_soon = await a_business(store, "soon")
    due_later = await a_business(store, "later")
    await a_business(store, "never")
    gone = await a_business(store, "gone")
    await businesses.record_profile(store, due_soon.id, digest="x", check_at=1000)
    await businesses.record_profile(store, due_later.id, digest="x", check_at=3000)
    await businesses.record_profile(store, gone.id, digest="x", check_at=500)
    await businesses.mark_deleted(store, gone.id, now=now_ms())
    # Then at 2000 only the live one due by then is listed
    assert [b.username for b in await businesses.profile_due(store, 2000)] == ["soon"]
    assert [b.username for b in await businesses.profile_due(store, 5000)] == ["soon", "later"]
