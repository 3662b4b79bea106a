"""inbound.dispatch: an inbox item is handed to its handler, unless its type is unknown or its
sender was blocked after it arrived."""

from __future__ import annotations

import pytest

from fedi_town.store import moderation
from fedi_town.store.db import now_ms
from tests.inbound import payloads as p
from tests.inbound.handlers.helpers import (
    ALICE,
)
from tests.inbound.helpers import (
    add_business,
    add_remote_actor,
    count,
    dispatch,
    handle,
)

pytestmark = pytest.mark.anyio


async def test_an_unknown_activity_type_is_marked_done(services):
    row = await dispatch(
        services,
        {"id": f"{ALICE}#reads/1", "type": "Read", "actor": ALICE, "object": f"{ALICE}/x"},
    )
    assert row["state"] == "done"


async def test_an_item_from_a_sender_blocked_after_it_arrived_is_not_handled(services, biz):
    await add_remote_actor(services.store, ALICE)
    await moderation.add_block(
        services.store, business_id=None, actor_uri=None, domain="mastodon.example", now=now_ms()
    )
    row = await dispatch(services, p.mastodon_follow(ALICE, biz))
    assert row["state"] == "done"
    assert await count(services.store, "follows") == 0


async def test_a_business_block_stops_that_business_only(services, bakery, biz):
    cafe = await add_business(services, "cafe")
    await add_remote_actor(services.store, ALICE)
    await moderation.add_block(
        services.store, business_id=bakery.id, actor_uri=ALICE, domain=None, now=now_ms()
    )
    assert (await handle(services, p.mastodon_follow(ALICE, biz))).startswith("ignored")
    cafe_follow = p.mastodon_follow(ALICE, services.urls.actor(cafe.username)) | {
        "id": f"{ALICE}#2"
    }
    assert await handle(services, cafe_follow) == "new accepted follower"
