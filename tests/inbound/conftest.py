"""Fixtures for the inbound side: services over a real store (both backends), with a real
loopback-capable HTTP client, and the owner's business."""

from __future__ import annotations

import pytest

from tests.inbound.helpers import add_business, add_post


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


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
