"""Accounts by the start of their name, with LIKE's wildcards taken as letters."""

from __future__ import annotations

import pytest

from fedi_town.store import search
from tests.store.conftest import a_business, an_actor

pytestmark = pytest.mark.anyio


async def test_names_match_by_their_start_and_wildcards_are_letters(store):
    await a_business(store)
    await an_actor(store, "jo_x", "remote.test")
    await an_actor(store, "joax", "remote.test")
    businesses = await search.businesses_named(store, "", limit=5)
    assert businesses
    actors = await search.actors_named(store, "jo_", limit=5)
    assert [a.username for a in actors] == ["jo_x"]
    elsewhere = await search.actors_named(store, "jo", domain="other.test", limit=5)
    assert elsewhere == []
