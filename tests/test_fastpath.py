"""Kept answers (``read.cache``) served by the fast path (``fastpath``), in process.

Every test goes through the whole app (``create_app``), so the first request of a URL takes
the slow path and fills the cache, and the next one is answered before Starlette routes it.
Signed fetches over real HTTP are in ``test_fastpath_live.py``.
"""

from __future__ import annotations

import pytest

from fedi_town.read import negotiate
from fedi_town.read.cache import (
    followers_changed,
    request_key,
    response_cache,
)
from tests.conftest import admin_headers, create_business
from tests.read.helpers import (
    AP,
    BROWSER,
    MASTODON,
    insert_follow,
    insert_post,
    insert_remote_actor,
    services,
)

pytestmark = pytest.mark.anyio

ACTOR = "https://town.example/users/bakery"
ALICE = "https://mastodon.example/users/alice"
WEBFINGER = "/.well-known/webfinger?resource=acct:bakery@town.example"


def cache_of(client):
    return response_cache(services(client))


async def post_through_api(client, content="Fresh rye today", **extra):
    response = await client.post(
        "/api/v1/businesses/bakery/posts",
        json={"content": content, **extra},
        headers=admin_headers(),
    )
    assert response.status_code == 201, response.text
    return response.json()


def path_of(uri: str) -> str:
    return "/" + uri.split("/", 3)[3]


async def test_a_hit_is_byte_identical_to_the_slow_answer_headers_included(app_client):
    # Given a business with a post, and each document fetched once (the slow path)
    await create_business(app_client, "bakery")
    note = path_of((await post_through_api(app_client))["uri"])
    requests = [
        ("/users/bakery", AP),
        ("/users/bakery", MASTODON),
        ("/@bakery", AP),
        (WEBFINGER, {}),
        (f"/.well-known/webfinger?resource={ACTOR}", {}),
        (note, AP),
        (note + "/activity", AP),
        (note + "/likes", AP),
        ("/users/bakery/outbox", AP),
        ("/users/bakery/outbox?page=1", AP),
        ("/users/bakery/followers", AP),
        ("/users/bakery/collections/featured", AP),
        ("/actor", AP),
        ("/.well-known/nodeinfo", {}),
        ("/nodeinfo/2.1", {}),
    ]
    slow = [await app_client.get(path, headers=headers) for path, headers in requests]
    assert len(cache_of(app_client)) == len(requests) - 1  # Mastodon's Accept is AP's
    # When the same documents are fetched again, behind the API's back changed in the rows
    await services(app_client).store.execute("UPDATE businesses SET display_name = 'Sneaky'")
    fast = [await app_client.get(path, headers=headers) for path, headers in requests]
    # Then each answer is the kept one, byte for byte, with the very same headers
    for (path, _), before, after in zip(requests, slow, fast, strict=True):
        assert before.status_code == 200, path
        assert after.status_code == 200, path
        assert after.content == before.content, path
        assert after.headers.raw == before.headers.raw, path
    assert "Sneaky" not in fast[0].text
    assert fast[0].headers["cache-control"] == "public, max-age=180"
    assert fast[0].headers["vary"] == "Accept"


async def test_a_browser_gets_the_html_page_after_the_json_was_kept(app_client):
    await create_business(app_client, "bakery")
    note = path_of((await post_through_api(app_client))["uri"])
    for path in ("/users/bakery", note):
        assert (await app_client.get(path, headers=AP)).status_code == 200
        page = await app_client.get(path, headers=BROWSER)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        again = await app_client.get(path, headers=AP)
        assert again.headers["content-type"] == "application/activity+json"


async def test_json_never_reaches_a_browser_and_html_is_not_kept(app_client):
    await create_business(app_client, "bakery")
    page = await app_client.get("/users/bakery", headers=BROWSER)
    assert page.headers["content-type"].startswith("text/html")
    assert len(cache_of(app_client)) == 0
    document = await app_client.get("/users/bakery", headers=AP)
    assert document.json()["id"] == ACTOR
    assert (await app_client.get("/users/bakery", headers=BROWSER)).text == page.text


async def test_a_deleted_post_is_gone_at_once(app_client):
    # Given a kept Note and a kept outbox page that lists it
    await create_business(app_client, "bakery")
    post = await post_through_api(app_client)
    note = path_of(post["uri"])
    assert (await app_client.get(note, headers=AP)).status_code == 200
    outbox = await app_client.get("/users/bakery/outbox?page=1", headers=AP)
    assert len(outbox.json()["orderedItems"]) == 1
    # When the owner deletes it
    deleted = await app_client.delete(
        f"/api/v1/businesses/bakery/posts/{post['id']}", headers=admin_headers()
    )
    assert deleted.status_code == 204
    # Then the Note URL answers 410 with a Tombstone, and the outbox no longer has it
    gone = await app_client.get(note, headers=AP)
    assert gone.status_code == 410
    assert gone.json()["type"] == "Tombstone"
    outbox = await app_client.get("/users/bakery/outbox?page=1", headers=AP)
    assert outbox.json()["orderedItems"] == []
    assert (await app_client.get("/users/bakery/outbox", headers=AP)).json()["totalItems"] == 0


async def test_an_edited_post_shows_its_new_content_at_once(app_client):
    await create_business(app_client, "bakery")
    post = await post_through_api(app_client, "Rye today")
    note = path_of(post["uri"])
    assert "Rye today" in (await app_client.get(note, headers=AP)).json()["content"]
    page = await app_client.get("/users/bakery/outbox?page=1", headers=AP)
    assert "Rye today" in page.text
    edited = await app_client.patch(
        f"/api/v1/businesses/bakery/posts/{post['id']}",
        json={"content": "Spelt today"},
        headers=admin_headers(),
    )
    assert edited.status_code == 200
    assert "Spelt today" in (await app_client.get(note, headers=AP)).json()["content"]
    page = await app_client.get("/users/bakery/outbox?page=1", headers=AP)
    assert "Spelt today" in page.text


async def test_a_new_post_shows_in_the_outbox_and_nodeinfo_at_once(app_client):
    await create_business(app_client, "bakery")
    await post_through_api(app_client, "first")
    assert (await app_client.get("/users/bakery/outbox", headers=AP)).json()["totalItems"] == 1
    usage = (await app_client.get("/nodeinfo/2.1")).json()["usage"]
    assert usage["localPosts"] == 1
    await post_through_api(app_client, "second")
    assert (await app_client.get("/users/bakery/outbox", headers=AP)).json()["totalItems"] == 2
    assert (await app_client.get("/nodeinfo/2.1")).json()["usage"]["localPosts"] == 2


async def test_a_profile_change_shows_in_the_actor_at_once(app_client):
    await create_business(app_client, "bakery", display_name="Corner Bakery")
    assert (await app_client.get("/users/bakery", headers=AP)).json()["name"] == "Corner Bakery"
    assert (await app_client.get("/users/bakery", headers=AP)).json()["name"] == "Corner Bakery"
    changed = await app_client.patch(
        "/api/v1/businesses/bakery", json={"display_name": "New Name"}, headers=admin_headers()
    )
    assert changed.status_code == 200
    assert (await app_client.get("/users/bakery", headers=AP)).json()["name"] == "New Name"


async def test_a_deleted_business_is_gone_at_once_everywhere(app_client):
    await create_business(app_client, "bakery")
    note = path_of((await post_through_api(app_client))["uri"])
    for path in ("/users/bakery", note, "/users/bakery/outbox"):
        assert (await app_client.get(path, headers=AP)).status_code == 200
    assert (await app_client.get(WEBFINGER)).status_code == 200
    await app_client.delete("/api/v1/businesses/bakery", headers=admin_headers())
    for path in ("/users/bakery", note, "/users/bakery/outbox"):
        assert (await app_client.get(path, headers=AP)).status_code == 410, path
    assert (await app_client.get(WEBFINGER)).status_code == 410


async def test_a_followers_only_post_is_never_kept_for_anyone(app_client, monkeypatch):
    # Given a followers-only post, and a guard that verifies alice when she says who she is
    await create_business(app_client, "bakery")
    alice, _ = await insert_remote_actor(app_client, "alice")
    await insert_follow(app_client, "bakery", alice)
    post_id = await insert_post(app_client, visibility="followers")
    note = f"/users/bakery/statuses/{post_id}"

    async def guard(request, svc):
        return ALICE if request.headers.get("x-test-fetcher") == "alice" else None

    monkeypatch.setattr(negotiate, "fetch_guard", guard)
    # When alice fetches it (twice) and then an anonymous server does
    for _ in range(2):
        seen = await app_client.get(note, headers={**AP, "X-Test-Fetcher": "alice"})
        assert seen.status_code == 200
    for suffix in ("", "/activity", "/likes", "/shares", "/replies"):
        await app_client.get(note + suffix, headers={**AP, "X-Test-Fetcher": "alice"})
        anonymous = await app_client.get(note + suffix, headers=AP)
        # Then the anonymous server gets nothing, and nothing of it was kept
        assert anonymous.status_code == 404, suffix
    assert all(key[0] != note for key in cache_of(app_client)._entries)


async def test_a_head_request_is_answered_from_the_cache(app_client):
    await create_business(app_client, "bakery")
    get = await app_client.get("/users/bakery", headers=AP)
    head = await app_client.head("/users/bakery", headers=AP)
    assert head.status_code == 200
    assert head.headers["content-type"] == "application/activity+json"
    assert head.headers["content-length"] == str(len(get.content))
    first_head = await app_client.head("/users/bakery/outbox?page=1", headers=AP)
    assert first_head.status_code == 200
    assert (await app_client.head("/users/bakery/outbox?page=1", headers=AP)).status_code == 200


async def test_follower_counts_change_through_the_inbound_hook(app_client):
    await create_business(app_client, "bakery")
    followers = "/users/bakery/followers"
    assert (await app_client.get(followers, headers=AP)).json()["totalItems"] == 0
    alice, _ = await insert_remote_actor(app_client, "alice")
    await insert_follow(app_client, "bakery", alice)
    followers_changed(services(app_client))
    assert (await app_client.get(followers, headers=AP)).json()["totalItems"] == 1


async def test_errors_redirects_and_junk_queries_are_not_kept(app_client):
    await create_business(app_client, "Bakery")
    assert (await app_client.get("/users/nobody", headers=AP)).status_code == 404
    assert (await app_client.get("/users/bakery", headers=AP)).status_code == 301
    assert (await app_client.get("/users/Bakery/outbox?page=1&x=1", headers=AP)).status_code == 200
    assert (await app_client.get("/users/Bakery/outbox?page=0", headers=AP)).status_code == 400
    assert len(cache_of(app_client)) == 0
    # And a redirect is still a redirect once the canonical spelling is kept
    assert (await app_client.get("/users/Bakery", headers=AP)).status_code == 200
    assert (await app_client.get("/users/bakery", headers=AP)).status_code == 301


async def test_the_cache_is_bounded_by_its_byte_budget(app_client):
    # Given a cache of a few KB
    cache = cache_of(app_client)
    cache.budget = 6_000
    await create_business(app_client, "bakery")
    await post_through_api(app_client)
    # When many documents are fetched (every page number is a document of its own)
    for n in range(1, 40):
        page = await app_client.get(f"/users/bakery/outbox?page={n}", headers=AP)
        assert page.status_code == 200
    # Then it never holds more than the budget, and the newest answers are still there
    assert 0 < cache.size <= 6_000
    assert 1 < len(cache) < 39
    assert request_key("/users/bakery/outbox", b"page=39", b"application/activity+json") in (
        cache._entries
    )
    assert request_key("/users/bakery/outbox", b"page=1", b"application/activity+json") not in (
        cache._entries
    )


async def test_only_get_and_head_are_answered_from_the_cache(app_client):
    await create_business(app_client, "bakery")
    assert (await app_client.get("/users/bakery", headers=AP)).status_code == 200
    assert (await app_client.post("/users/bakery", headers=AP)).status_code == 405
    assert (await app_client.delete("/users/bakery", headers=AP)).status_code == 405
