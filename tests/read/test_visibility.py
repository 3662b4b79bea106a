"""read.visibility: who may read a post of each visibility, anonymous or signed."""

from __future__ import annotations

import pytest

from fedi_town.read.visibility import can_see
from fedi_town.store import reads
from tests.conftest import create_business
from tests.read.helpers import (
    business,
    insert_follow,
    insert_post,
    insert_remote_actor,
    services,
)

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"


async def test_each_visibility_is_seen_by_whom_its_rule_names(app_client):
    # Given posts of every visibility mentioning bob, and alice following
    await create_business(app_client, "bakery")
    alice, _ = await insert_remote_actor(app_client, "alice")
    await insert_follow(app_client, "bakery", alice)
    bob = "https://social.example/users/bob"
    store = services(app_client).store
    owner = await business(app_client, "bakery")
    posts = {}
    for visibility in ("public", "unlisted", "followers", "direct"):
        post_id = await insert_post(
            app_client, visibility=visibility, mentions=[{"href": bob, "name": "@bob"}]
        )
        found = await reads.post_by_id(store, owner.id, post_id)
        assert found is not None
        posts[visibility] = found

    async def visible_to(fetcher):
        return [v for v, p in posts.items() if await can_see(store, p, fetcher)]

    # Then anonymous fetchers see only public and unlisted
    assert await visible_to(None) == ["public", "unlisted"]
    # And a follower also sees followers-only, but not direct
    assert await visible_to(ALICE) == ["public", "unlisted", "followers"]
    # And the mentioned actor sees them all
    assert await visible_to(bob) == ["public", "unlisted", "followers", "direct"]
    # And a stranger sees only what anybody sees
    assert await visible_to("https://evil.example/users/x") == ["public", "unlisted"]
