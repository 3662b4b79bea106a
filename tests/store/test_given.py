"""What a business gave: one like and one boost per post at most, found by the post's id, and
the small lookups other features read ("liked? boosted?")."""

from __future__ import annotations

import pytest

from fedi_town.store import given
from tests.store.conftest import a_business

pytestmark = pytest.mark.anyio

POST = "https://mastodon.example/users/jo/statuses/1"
JO = "https://mastodon.example/users/jo"


async def _give(store, business_id: int, kind: given.Kind, row_id: int, obj: str = POST):
    return await given.insert(
        store,
        row_id=row_id,
        business_id=business_id,
        object_uri=obj,
        kind=kind,
        activity_uri=f"https://us/users/b/{kind}/{row_id}",
        author_uri=JO,
        now=row_id,
    )


async def test_a_like_and_a_boost_of_one_post_are_kept_once_each(store):
    # Given a business that liked and boosted one post
    business = await a_business(store)
    liked = await _give(store, business.id, given.LIKE, 10)
    boosted = await _give(store, business.id, given.ANNOUNCE, 11)
    assert liked is not None and boosted is not None
    # When it likes the same post again
    again = await _give(store, business.id, given.LIKE, 12)
    # Then nothing more is written, and each is found by post and kind
    assert again is None
    assert await given.of_object(store, business.id, POST, given.LIKE) == liked
    assert await given.of_object(store, business.id, POST, given.ANNOUNCE) == boosted
    assert await given.count(store, business.id, given.LIKE) == 1


async def test_given_answers_for_each_post_asked_about(store):
    business = await a_business(store)
    other = "https://mastodon.example/users/jo/statuses/2"
    await _give(store, business.id, given.LIKE, 10)
    await _give(store, business.id, given.ANNOUNCE, 11, obj=other)
    answer = await given.given(store, business.id, [POST, other, "https://x.example/3"])
    assert answer == {
        POST: {"like": True, "announce": False},
        other: {"like": False, "announce": True},
        "https://x.example/3": {"like": False, "announce": False},
    }
    assert await given.given(store, business.id, []) == {}


async def test_taking_back_deletes_once_and_pages_are_newest_first(store):
    business = await a_business(store)
    first = await _give(store, business.id, given.LIKE, 10)
    second = await _give(store, business.id, given.LIKE, 11, obj="https://x.example/2")
    assert first is not None and second is not None
    assert [g.id for g in await given.page(store, business.id, kind=given.LIKE, limit=5)] == [
        11,
        10,
    ]
    assert [
        g.id for g in await given.page(store, business.id, kind=given.LIKE, limit=5, max_id=11)
    ] == [10]
    assert await given.delete(store, first.id) is True
    assert await given.delete(store, first.id) is False
    assert await given.by_id(store, business.id, second.id) == second
    await given.delete_all_of(store, business.id)
    assert await given.count(store, business.id, given.LIKE) == 0


async def test_a_deleted_post_or_account_takes_what_was_given_to_it(store):
    # Given a bakery that liked and boosted jo's post, and the cafe that liked another
    bakery = await a_business(store)
    cafe = await a_business(store, "cafe")
    await _give(store, bakery.id, given.LIKE, 10)
    await _give(store, bakery.id, given.ANNOUNCE, 11)
    await _give(store, cafe.id, given.LIKE, 12, obj="https://mastodon.example/users/jo/s/2")
    # When someone else claims to delete jo's post, nothing goes
    assert await given.forget_object(store, POST, author_uri="https://evil.example/u") == []
    assert await given.count(store, bakery.id, given.LIKE) == 1
    # When jo deletes it: the bakery's like and boost go (its outbox changed)
    assert await given.forget_object(store, POST, author_uri=JO) == ["bakery"]
    assert await given.given(store, bakery.id, [POST]) == {POST: {"like": False, "announce": False}}
    # When jo's account is deleted: the cafe's like of the other post goes too
    assert await given.forget_author(store, JO) == []
    assert await given.count(store, cafe.id, given.LIKE) == 0
