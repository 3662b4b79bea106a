"""The admin API for businesses: create, read, change, delete, tokens, bad input."""

from __future__ import annotations

import pytest

from tests.conftest import admin_headers, create_business

pytestmark = pytest.mark.anyio


async def test_admin_creates_a_business_and_gets_its_owner_token_once(app_client):
    # When the admin creates a business
    data = await create_business(app_client, "bakery", summary="Fresh **bread**")
    # Then it has an actor id, a handle and an owner token
    assert data["actor_id"] == "https://town.example/users/bakery"
    assert data["handle"] == "@bakery@town.example"
    assert data["owner_token"].startswith("ftown_")
    # And reading it back never shows the token again
    again = await app_client.get("/api/v1/businesses/bakery", headers=admin_headers())
    assert again.status_code == 200
    assert "owner_token" not in again.json()
    assert again.json()["summary"] == "Fresh **bread**"


async def test_owner_token_is_stored_only_hashed(app_client):
    data = await create_business(app_client, "bakery")
    store = app_client.services.store
    row = await store.fetch_one("SELECT owner_token_hash FROM businesses")
    assert row["owner_token_hash"] != data["owner_token"]
    assert data["owner_token"] not in row["owner_token_hash"]


async def test_owner_reads_and_changes_their_own_business(app_client):
    data = await create_business(app_client, "bakery")
    owner = {"Authorization": f"Bearer {data['owner_token']}"}
    response = await app_client.patch(
        "/api/v1/businesses/bakery", json={"display_name": "Best Bakery"}, headers=owner
    )
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "Best Bakery"


async def test_another_owners_token_gets_404_and_changes_nothing(app_client):
    await create_business(app_client, "bakery")
    cafe = await create_business(app_client, "cafe", display_name="Cafe")
    other = {"Authorization": f"Bearer {cafe['owner_token']}"}
    response = await app_client.patch(
        "/api/v1/businesses/bakery", json={"display_name": "Hijacked"}, headers=other
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    after = await app_client.get("/api/v1/businesses/bakery", headers=admin_headers())
    assert after.json()["display_name"] == "Corner Bakery"


async def test_owner_cannot_list_or_create_businesses(app_client):
    data = await create_business(app_client, "bakery")
    owner = {"Authorization": f"Bearer {data['owner_token']}"}
    assert (await app_client.get("/api/v1/businesses", headers=owner)).status_code == 403
    response = await app_client.post(
        "/api/v1/businesses", json={"username": "x", "display_name": "x"}, headers=owner
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer ftown_forged"},
    ],
)
async def test_bad_tokens_get_401_problem(app_client, headers):
    response = await app_client.get("/api/v1/businesses", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401


async def test_rotating_the_token_revokes_the_old_one(app_client):
    data = await create_business(app_client, "bakery")
    old = {"Authorization": f"Bearer {data['owner_token']}"}
    response = await app_client.post("/api/v1/businesses/bakery/token", headers=old)
    assert response.status_code == 200
    new = {"Authorization": f"Bearer {response.json()['owner_token']}"}
    assert (await app_client.get("/api/v1/businesses/bakery", headers=old)).status_code == 401
    assert (await app_client.get("/api/v1/businesses/bakery", headers=new)).status_code == 200


async def test_admin_lists_businesses(app_client):
    await create_business(app_client, "bakery")
    await create_business(app_client, "cafe")
    response = await app_client.get("/api/v1/businesses", headers=admin_headers())
    assert [b["username"] for b in response.json()["items"]] == ["bakery", "cafe"]


@pytest.mark.parametrize(
    "username",
    ["-bakery", "bakery-", "bä", "a b", "a..", ".a", "x" * 31, "instance.actor", ""],
)
async def test_usernames_mastodon_would_refuse_get_422(app_client, username):
    response = await app_client.post(
        "/api/v1/businesses",
        json={"username": username, "display_name": "X"},
        headers=admin_headers(),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    listing = await app_client.get("/api/v1/businesses", headers=admin_headers())
    assert listing.json()["total"] == 0


@pytest.mark.parametrize("username", ["Bakery", "b.a-k_e", "a", "corner_bakery1"])
async def test_usernames_mastodon_accepts_are_accepted(app_client, username):
    await create_business(app_client, username)


async def test_usernames_are_unique_case_insensitively(app_client):
    await create_business(app_client, "bakery")
    response = await app_client.post(
        "/api/v1/businesses",
        json={"username": "BAKERY", "display_name": "X"},
        headers=admin_headers(),
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b"", 400),
        (b'{"username": 5, "display_name": "x"}', 422),
        (b'{"username": "ok", "display_name": "x", "extra": 1}', 422),
        (b'{"username": "ok"}', 422),
        (b'{"username": "ok", "display_name": "x", "website": "ftp://x"}', 422),
    ],
)
async def test_bad_bodies_get_a_clear_4xx_and_create_nothing(app_client, body, status):
    response = await app_client.post(
        "/api/v1/businesses",
        content=body,
        headers={**admin_headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]
    listing = await app_client.get("/api/v1/businesses", headers=admin_headers())
    assert listing.json()["total"] == 0


async def test_oversized_body_gets_413(app_client):
    big = b'{"username": "ok", "display_name": "' + b"x" * 2_000_000 + b'"}'
    response = await app_client.post(
        "/api/v1/businesses",
        content=big,
        headers={**admin_headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_non_json_content_type_gets_415(app_client):
    response = await app_client.post(
        "/api/v1/businesses",
        content=b"username=x",
        headers={**admin_headers(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415


async def test_patch_with_wrong_types_changes_nothing(app_client):
    data = await create_business(app_client, "bakery")
    owner = {"Authorization": f"Bearer {data['owner_token']}"}
    response = await app_client.patch(
        "/api/v1/businesses/bakery",
        json={"display_name": "New", "discoverable": "yes"},
        headers=owner,
    )
    assert response.status_code == 422
    after = await app_client.get("/api/v1/businesses/bakery", headers=owner)
    assert after.json()["display_name"] == "Corner Bakery"


async def test_the_owner_features_hashtags_tidied_as_stored(app_client):
    data = await create_business(app_client, "bakery")
    owner = {"Authorization": f"Bearer {data['owner_token']}"}
    assert (await app_client.get("/api/v1/businesses/bakery", headers=owner)).json()[
        "featured_tags"
    ] == []
    # When the owner features hashtags, with "#", spaces and a fullwidth letter
    response = await app_client.patch(
        "/api/v1/businesses/bakery",
        json={"featured_tags": [" #Sourdough", "ｃakes", "bread_2026"]},
        headers=owner,
    )
    # Then they are stored without "#", NFKC, in the owner's order
    assert response.status_code == 200, response.text
    assert response.json()["featured_tags"] == ["Sourdough", "cakes", "bread_2026"]
    # And [] removes them
    cleared = await app_client.patch(
        "/api/v1/businesses/bakery", json={"featured_tags": []}, headers=owner
    )
    assert cleared.json()["featured_tags"] == []


@pytest.mark.parametrize(
    ("tags", "pointer"),
    [
        (["bread", "no spaces"], "/featured_tags/1"),
        (["bread", "#BREAD"], "/featured_tags/1"),
        (["2026"], "/featured_tags/0"),
        ([f"t{n}" for n in range(11)], "/featured_tags"),
    ],
)
async def test_featured_tags_that_are_not_hashtags_are_refused(app_client, tags, pointer):
    data = await create_business(app_client, "bakery")
    owner = {"Authorization": f"Bearer {data['owner_token']}"}
    response = await app_client.patch(
        "/api/v1/businesses/bakery", json={"featured_tags": tags}, headers=owner
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert pointer in [e["pointer"] for e in response.json()["errors"]]
    after = await app_client.get("/api/v1/businesses/bakery", headers=owner)
    assert after.json()["featured_tags"] == []


async def test_unknown_business_gets_404(app_client):
    response = await app_client.get("/api/v1/businesses/nobody", headers=admin_headers())
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_deleted_business_is_gone_and_its_token_dies(app_client):
    data = await create_business(app_client, "bakery")
    owner = {"Authorization": f"Bearer {data['owner_token']}"}
    assert (await app_client.delete("/api/v1/businesses/bakery", headers=owner)).status_code == 204
    assert (await app_client.get("/api/v1/businesses/bakery", headers=owner)).status_code == 401
    gone = await app_client.get("/api/v1/businesses/bakery", headers=admin_headers())
    assert gone.status_code == 404
    # And the username stays taken, so the old actor id is never reused
    again = await app_client.post(
        "/api/v1/businesses",
        json={"username": "bakery", "display_name": "x"},
        headers=admin_headers(),
    )
    assert again.status_code == 409
