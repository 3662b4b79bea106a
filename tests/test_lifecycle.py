"""The process's one outbound HTTP client: opened at start, closed at stop."""

from __future__ import annotations

import pytest

from fedi_town.lifecycle import close_client, open_client
from fedi_town.protocol.urls import Urls
from fedi_town.remote.http import RemoteClient
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store.db import Store

pytestmark = pytest.mark.anyio


async def test_the_client_is_opened_once_and_closed_at_stop(settings: Settings, store: Store):
    # Given services with no client yet
    services = Services(settings=settings, store=store, urls=Urls(settings.base_url))
    # When the start hook runs twice
    await open_client(services)
    first = services.remote
    await open_client(services)
    # Then there is one client, kept
    assert isinstance(first, RemoteClient) and services.remote is first
    # When the stop hook runs (twice: a second stop is harmless)
    await close_client(services)
    await close_client(services)
    # Then the client is gone
    assert services.remote is None
