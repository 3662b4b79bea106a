"""inbound.handlers.reactions: Likes and boosts of our posts, counted and notified once, as
Mastodon, Misskey and others send them (tests/inbound/payloads.py)."""

from __future__ import annotations

import pytest

from tests.inbound import payloads as p
from tests.inbound.handlers.helpers import (
    ALICE,
    HOLLO,
    MISSKEY,
    PIXEL,
    ZORK,
    twice_changes_nothing,
)
from tests.inbound.helpers import (
    add_remote_actor,
    count,
    handle,
    notification_types,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "actor, make",
    [
        (ALICE, lambda a, post, biz: p.mastodon_like(a, post)),
        (ZORK, lambda a, post, biz: p.gotosocial_like(a, post, biz)),
        (MISSKEY, lambda a, post, biz: p.misskey_like(a, post)),
        (HOLLO, lambda a, post, biz: p.fedify_like(a, post)),
    ],
    ids=["mastodon", "gotosocial", "misskey-reaction", "fedify"],
)
async def test_a_like_of_our_post_is_counted_and_notified_once(services, biz, post, actor, make):
    post_id, post_uri = post
    await add_remote_actor(services.store, actor)
    like = make(actor, post_uri, biz)
    assert await handle(services, like) == "Like recorded"
    assert await count(services.store, "interactions", "kind = 'like' AND post_id = :p", p=post_id)
    assert await notification_types(services.store) == ["like"]
    await twice_changes_nothing(services, like)


async def test_a_like_of_something_that_is_not_our_post_is_ignored(services):
    await add_remote_actor(services.store, ALICE)
    outcome = await handle(services, p.mastodon_like(ALICE, "https://elsewhere.example/n/1"))
    assert outcome.startswith("ignored")
    assert await count(services.store, "interactions") == 0


@pytest.mark.parametrize(
    "actor, make",
    [(ALICE, p.mastodon_announce), (PIXEL, p.pixelfed_announce)],
    ids=["mastodon", "pixelfed"],
)
async def test_a_boost_of_our_post_is_counted_and_notified_once(services, biz, post, actor, make):
    _, post_uri = post
    await add_remote_actor(services.store, actor)
    announce = make(actor, biz, post_uri)
    assert await handle(services, announce) == "Announce recorded"
    assert await count(services.store, "interactions", "kind = 'announce'") == 1
    assert await notification_types(services.store) == ["boost"]
    await twice_changes_nothing(services, announce)
