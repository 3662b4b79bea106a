"""Fixtures for the inbound side: services over a real store (both backends), with a real
loopback-capable HTTP client, and the owner's business."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fedi_town.protocol.urls import Urls
from fedi_town.remote.http import RemoteClient
from fedi_town.remote.signers import InstanceKey
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store.db import Store
from tests.inbound.helpers import add_business, add_post, keypair


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def services(settings: Settings, store: Store) -> AsyncIterator[Services]:
    """Services over the test store; the remote client may reach loopback test peers."""
    result = Services(settings=settings, store=store, urls=Urls(settings.base_url))
    private_pem, public_pem = keypair()
    result.instance_key = InstanceKey(
        result.urls.instance_key_id(), private_pem, public_pem, result.clock
    )
    client = result.remote = RemoteClient(allow_private=True, user_agent="fedi-town-tests")
    try:
        yield result
    finally:
        await client.close()


@pytest.fixture
async def bakery(services):
    """The business most handler tests act on."""
    return await add_business(services, "bakery")


@pytest.fixture
async def biz(services, bakery):
    """The bakery's actor id."""
    return services.urls.actor(bakery.username)


@pytest.fixture
async def post(services, bakery):
    """A published post of the bakery."""
    return await add_post(services, bakery)
