"""Actor documents and WebFinger answers are kept in memory and forgotten on every change;
the cache's own rules (byte budget, expiry, generations) on their own.

Answers sent from the cache before routing are tested in ``tests/test_fastpath.py``."""

from __future__ import annotations

import pytest

from fedi_town.read.cache import ENTRY_OVERHEAD, Entry, ResponseCache
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


def entry(group: str, size: int = 100) -> Entry:
    return Entry(200, [], [], b"x", False, group, float("inf"), size)


def test_least_recently_used_entries_go_first_within_the_budget():
    cache = ResponseCache(ttl=60.0, budget=300)
    for name in ("a", "b", "c"):
        assert cache.put((name, b"", True), entry("@x"), cache.generation)
    assert cache.get(("a", b"", True)) is not None  # a is now the most recent
    cache.put(("d", b"", True), entry("@x"), cache.generation)
    assert cache.get(("b", b"", True)) is None
    assert cache.get(("a", b"", True)) is not None
    assert cache.size == 300
    assert not cache.put(("big", b"", True), entry("@x", 301), cache.generation)


def test_entries_expire():
    cache = ResponseCache(ttl=-1.0)
    key = ("a", b"", True)
    expired = entry("@x")
    expired.expires = 0.0
    cache.put(key, expired, cache.generation)
    assert cache.get(key) is None
    assert cache.size == 0


def test_an_answer_built_before_its_group_was_dropped_is_not_kept():
    # Given a request that started, then a change to its business
    cache = ResponseCache()
    started = cache.generation
    cache.forget("@bakery")
    # When the request's answer comes back
    kept = cache.put(("/users/bakery", b"", True), entry("@bakery"), started)
    # Then it is not kept (it may hold data from before the change), but others are
    assert not kept
    assert cache.put(("/users/other", b"", True), entry("@other"), started)
    assert cache.put(("/users/bakery", b"", True), entry("@bakery"), cache.generation)


def test_forgetting_a_group_frees_its_bytes():
    cache = ResponseCache()
    cache.put(("a", b"", True), entry("@a", 100 + ENTRY_OVERHEAD), 0)
    cache.put(("b", b"", True), entry("@b", 100), 0)
    cache.forget("@a")
    assert cache.size == 100
    assert len(cache) == 1
