"""The owner API of what a business gives (likes, boosts): who may call it, what it accepts,
the lists and the "given" question. The deliveries themselves are in
tests/outbound/test_reactions.py (real peers) and the Fedify interop test."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import create_business
from tests.outbound.conftest import owner, write_post

pytestmark = pytest.mark.anyio


async def test_the_owner_boosts_its_post_lists_it_and_takes_it_back(app_client, bakery):
    # Given a public post of the bakery (followed by three accounts elsewhere)
    post = (await write_post(app_client, bakery, content="Rye today")).json()
    headers = owner(bakery)

    # When the owner boosts it and likes it
    boosted = await app_client.post(
        "/api/v1/businesses/bakery/boosts", json={"object": post["uri"]}, headers=headers
    )
    liked = await app_client.post(
        "/api/v1/businesses/bakery/likes", json={"object": str(post["id"])}, headers=headers
    )

    # Then each is listed, and "given" says so
    assert boosted.status_code == 201, boosted.text
    assert liked.status_code == 201, liked.text
    body: dict[str, Any] = boosted.json()
    assert body["kind"] == "boost" and body["object"] == post["uri"]
    assert body["activity"].startswith(f"{app_client.services.urls.actor('bakery')}/boosts/")
    boosts = await app_client.get("/api/v1/businesses/bakery/boosts", headers=headers)
    assert [b["id"] for b in boosts.json()["items"]] == [body["id"]]
    likes = await app_client.get("/api/v1/businesses/bakery/likes", headers=headers)
    assert [b["kind"] for b in likes.json()["items"]] == ["like"]
    given = await app_client.get(
        "/api/v1/businesses/bakery/given", params={"object": post["uri"]}, headers=headers
    )
    assert given.json() == {post["uri"]: {"liked": True, "boosted": True}}

    # When it takes the boost back, by the id it gave
    gone = await app_client.delete(
        "/api/v1/businesses/bakery/boosts", params={"object": str(post["id"])}, headers=headers
    )
    assert gone.status_code == 204, gone.text
    boosts = await app_client.get("/api/v1/businesses/bakery/boosts", headers=headers)
    assert boosts.json()["items"] == []


async def test_another_owner_cannot_give_in_the_business_s_name(app_client, bakery):
    cafe = await create_business(app_client, "cafe")
    post = (await write_post(app_client, bakery, content="Rye today")).json()
    response = await app_client.post(
        "/api/v1/businesses/bakery/likes", json={"object": post["uri"]}, headers=owner(cafe)
    )
    assert response.status_code in (401, 403, 404)
    response = await app_client.post("/api/v1/businesses/bakery/likes", json={"object": "1"})
    assert response.status_code == 401
    count = await app_client.services.store.fetch_val("SELECT COUNT(*) FROM given_reactions")
    assert count == 0


@pytest.mark.parametrize(
    "body",
    [{}, {"object": ""}, {"object": 5}, {"object": "x", "extra": 1}, {"object": "a" * 2001}],
)
async def test_a_body_that_breaks_the_schema_is_refused(app_client, bakery, body):
    response = await app_client.post(
        "/api/v1/businesses/bakery/boosts", json=body, headers=owner(bakery)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_taking_back_needs_the_object_and_given_is_bounded(app_client, bakery):
    headers = owner(bakery)
    response = await app_client.delete("/api/v1/businesses/bakery/likes", headers=headers)
    assert response.status_code == 400
    asked = [("object", f"https://x.example/{n}") for n in range(81)]
    response = await app_client.get(
        "/api/v1/businesses/bakery/given", params=asked, headers=headers
    )
    assert response.status_code == 400
