"""Quote stamps: granted once per (post, quoting post), found while they stand, revoked by
deleting the row."""

from __future__ import annotations

import pytest

from fedi_town.store import quotes
from tests.store.conftest import a_business, an_actor

pytestmark = pytest.mark.anyio

QUOTE = "https://social.example/users/jo/statuses/9"


async def test_a_stamp_is_granted_once_and_found_until_revoked(store):
    # Given a business and jo, who quotes its post 1
    business = await a_business(store)
    jo = await an_actor(store, "jo")
    values = dict(business_id=business.id, post_id=1, actor_id=jo.id, quote_uri=QUOTE, now=5)
    # When the request is granted twice
    stamp, made = await quotes.grant(store, request_uri="https://social.example/r/1", **values)
    again, repeated = await quotes.grant(store, request_uri="https://social.example/r/2", **values)
    # Then there is one stamp, carrying jo's inbox for a revocation
    assert (made, repeated) == (True, False)
    assert again == stamp
    assert stamp.actor_inbox == jo.inbox and stamp.actor_uri == jo.uri
    assert await quotes.by_id(store, 1, stamp.id) == stamp
    assert await quotes.by_id(store, 2, stamp.id) is None  # another post's path
    assert await quotes.of_post(store, 1) == [stamp]
    assert await quotes.of_business(store, business.id) == [stamp]
    # When it is revoked, it is gone
    await quotes.revoke(store, stamp.id)
    assert await quotes.by_id(store, 1, stamp.id) is None
    assert await quotes.of_post(store, 1) == []


async def test_a_deleted_quote_forgets_its_stamps_only_when_its_author_deletes_it(store):
    business = await a_business(store)
    jo = await an_actor(store, "jo")
    values = dict(business_id=business.id, actor_id=jo.id, quote_uri=QUOTE, now=5)
    await quotes.grant(store, post_id=1, request_uri="https://social.example/r/1", **values)
    await quotes.grant(store, post_id=2, request_uri="https://social.example/r/2", **values)
    assert await quotes.forget_quote(store, QUOTE, "https://remote.test/users/other") == 0
    assert await quotes.forget_quote(store, QUOTE, jo.uri) == 2
    assert await quotes.of_business(store, business.id) == []
