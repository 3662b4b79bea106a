"""Actor documents and WebFinger answers are kept in memory and forgotten on every change."""

from __future__ import annotations

import pytest

from tests.conftest import admin_headers, create_business

pytestmark = pytest.mark.anyio

AP = {"Accept": "application/activity+json"}


async def test_a_second_actor_fetch_is_served_from_memory_until_the_profile_changes(app_client):
    # Given a business whose actor was fetched once
    await create_business(app_client, "bakery", display_name="Corner Bakery")
    first = await app_client.get("/users/bakery", headers=AP)
    assert first.json()["name"] == "Corner Bakery"
    # When the stored name changes behind the API's back
    await app_client.services.store.execute("UPDATE businesses SET display_name = 'Sneaky'")
    # Then the cached document is served, byte for byte
    second = await app_client.get("/users/bakery", headers=AP)
    assert second.content == first.content
    # And a change through the admin API is visible at once
    await app_client.patch(
        "/api/v1/businesses/bakery", json={"display_name": "New Name"}, headers=admin_headers()
    )
    third = await app_client.get("/users/bakery", headers=AP)
    assert third.json()["name"] == "New Name"


async def test_a_deleted_business_stops_being_served_from_memory(app_client):
    await create_business(app_client, "bakery")
    assert (await app_client.get("/users/bakery", headers=AP)).status_code == 200
    resource = "/.well-known/webfinger?resource=acct:bakery@town.example"
    assert (await app_client.get(resource)).status_code == 200
    await app_client.delete("/api/v1/businesses/bakery", headers=admin_headers())
    assert (await app_client.get("/users/bakery", headers=AP)).status_code == 410
    assert (await app_client.get(resource)).status_code == 410


async def test_a_wrong_case_username_is_still_redirected_after_caching(app_client):
    await create_business(app_client, "Bakery")
    assert (await app_client.get("/users/Bakery", headers=AP)).status_code == 200
    moved = await app_client.get("/users/bakery", headers=AP)
    assert moved.status_code == 301
