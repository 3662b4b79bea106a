"""Helpers for the API tests: a business with its owner's headers, followers that came in."""

from __future__ import annotations

from fedi_town.store import businesses
from tests.conftest import create_business
from tests.inbound import payloads as p
from tests.inbound.helpers import add_remote_actor, handle


async def setup_bakery(app_client, username="bakery", **extra):
    data = await create_business(app_client, username, **extra)
    services = app_client.services
    business = await businesses.by_username(services.store, username)
    owner = {"Authorization": f"Bearer {data['owner_token']}"}
    return services, business, owner


async def followers_from(services, business, *actors, state_manual=False):
    biz = services.urls.actor(business.username)
    for i, actor in enumerate(actors):
        await add_remote_actor(services.store, actor)
        await handle(services, p.mastodon_follow(actor, biz) | {"id": f"{actor}#follow/{i}"})
