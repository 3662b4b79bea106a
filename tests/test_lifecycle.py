"""The process's one outbound HTTP client: opened at start, closed at stop."""

from __future__ import annotations

import pytest

from fedi_town.errors import ServiceUnavailable
from fedi_town.lifecycle import close_client, describe_failure, open_client
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


def test_a_start_that_cannot_reach_the_database_is_one_line_naming_its_setting():
    # Given the store's refusal of a PostgreSQL where nothing listens
    refused = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5499)")
    failure = ServiceUnavailable("the database is unreachable; try again later")
    failure.__cause__ = refused
    # When the start's failure is described, then it is one line naming the setting
    line = describe_failure(failure)
    assert line == (
        "cannot connect to the database of FEDI_TOWN_DATABASE_URL "
        "(ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 5499))"
    )
