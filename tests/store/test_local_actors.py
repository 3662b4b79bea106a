"""Our own businesses as actor rows, written from the database, never fetched."""

from __future__ import annotations

import pytest

from fedi_town.protocol.urls import Urls
from fedi_town.store import actors, businesses, local_actors
from fedi_town.store.db import now_ms
from tests.store.conftest import a_business

pytestmark = pytest.mark.anyio

URLS = Urls("https://town.example")


def test_only_our_plain_actor_ids_name_a_username():
    assert local_actors.username_at(URLS, "https://town.example/users/cafe") == "cafe"
    for uri in (
        "https://town.example/users/cafe/inbox",
        "https://town.example/users/cafe#main-key",
        "https://town.example/users/",
        "https://elsewhere.example/users/cafe",
    ):
        assert local_actors.username_at(URLS, uri) is None


async def test_a_business_here_is_found_by_its_actor_id(store):
    cafe = await a_business(store, "cafe")
    found = await local_actors.business_at(store, URLS, "https://town.example/users/cafe")
    assert found is not None and found.id == cafe.id
    assert await local_actors.business_at(store, URLS, "https://town.example/users/nobody") is None


async def test_a_deleted_business_is_not_found(store):
    cafe = await a_business(store, "cafe")
    await businesses.mark_deleted(store, cafe.id, now=now_ms())
    assert await local_actors.business_at(store, URLS, "https://town.example/users/cafe") is None


async def test_its_actor_row_says_what_its_document_says_and_holds_no_key(store):
    # Given a business here
    cafe = await a_business(store, "cafe")
    # When it is made an actor row
    actor = await local_actors.as_actor(store, URLS, cafe, now=now_ms())
    # Then the row has its id, handle, inboxes and followers, and no key was stored
    assert actor.uri == "https://town.example/users/cafe"
    assert actor.handle == "@cafe@town.example"
    assert actor.inbox == "https://town.example/users/cafe/inbox"
    assert actor.shared_inbox == "https://town.example/inbox"
    assert actor.followers_uri == "https://town.example/users/cafe/followers"
    assert actor.display_name == "Cafe"
    assert await actors.keys(store, ["https://town.example/users/cafe#main-key"]) == {}
    # And asking again gives the same row
    again = await local_actors.as_actor(store, URLS, cafe, now=now_ms())
    assert again.id == actor.id
