"""Invites and people through the admin API: who may invite, single-use links, the last
owner (in-process app, both backends)."""

from __future__ import annotations

import pytest

from fedi_town.api.auth import Caller
from fedi_town.store import businesses
from fedi_town.webapp.client import Api
from tests.conftest import admin_headers, create_business
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio


async def test_an_owner_token_invites_staff_and_the_link_is_shown_once(app_client):
    data = await create_business(app_client, "bakery")
    owner = {"Authorization": f"Bearer {data['owner_token']}"}
    made = await app_client.post(
        "/api/v1/businesses/bakery/invites", json={"role": "staff"}, headers=owner
    )
    assert made.status_code == 201
    body = made.json()
    assert body["url"].startswith("https://town.example/invite/") and body["role"] == "staff"
    listed = (await app_client.get("/api/v1/businesses/bakery/people", headers=owner)).json()
    assert [i["id"] for i in listed["invites"]] == [body["id"]]
    assert "url" not in listed["invites"][0]
    token = body["url"].rsplit("/", 1)[1]
    stored = await app_client.services.store.fetch_val("SELECT token_hash FROM invites")
    assert token not in stored


async def test_bad_invite_bodies_get_422_naming_the_field(app_client):
    await create_business(app_client, "bakery")
    for body, pointer in (({"role": "king"}, "/role"), ({}, "/")):
        answer = await app_client.post(
            "/api/v1/businesses/bakery/invites", json=body, headers=admin_headers()
        )
        assert answer.status_code == 422
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["pointer"] == pointer
    answer = await app_client.post(
        "/api/v1/admin/invites", json={"role": "owner"}, headers=admin_headers()
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["pointer"] == "/business"
    answer = await app_client.post(
        "/api/v1/admin/invites",
        json={"role": "owner", "business": "nope"},
        headers=admin_headers(),
    )
    assert answer.status_code == 422


async def test_staff_cannot_manage_people_but_owners_can(app_client):
    await owner_of(app_client, "bakery", login="anna")
    business = await businesses.by_username(app_client.services.store, "bakery")
    app = app_client._transport.app
    staff = Api(
        app,
        Caller(is_admin=False, business=business, person_id=1, role="staff"),
        "https://town.example",
    )
    owner = Api(
        app,
        Caller(is_admin=False, business=business, person_id=2, role="owner"),
        "https://town.example",
    )
    refused = await staff.post("/api/v1/businesses/bakery/invites", {"role": "staff"})
    assert refused.status == 403 and "only an owner" in refused.detail
    assert (await staff.get("/api/v1/businesses/bakery/people")).status == 403
    assert (await owner.post("/api/v1/businesses/bakery/invites", {"role": "staff"})).ok


async def test_the_last_owner_cannot_be_removed_and_a_removed_person_is_signed_out(app_client):
    anna = await owner_of(app_client, "bakery", login="anna")
    bert = await owner_of(app_client, "bakery", login="bert", role="staff", create=False)
    listed = (
        await app_client.get("/api/v1/businesses/bakery/people", headers=admin_headers())
    ).json()
    ids = {p["login"]: p["id"] for p in listed["people"]}
    last = await app_client.delete(
        f"/api/v1/businesses/bakery/people/{ids['anna']}", headers=admin_headers()
    )
    assert last.status_code == 409 and "last owner" in last.json()["detail"]
    gone = await app_client.delete(
        f"/api/v1/businesses/bakery/people/{ids['bert']}", headers=admin_headers()
    )
    assert gone.status_code == 204
    assert (await bert.get("/app/bakery")).status_code == 303
    assert (await anna.get("/app/bakery")).status_code == 200


async def test_an_open_invite_can_be_withdrawn(app_client):
    await create_business(app_client, "bakery")
    made = await app_client.post(
        "/api/v1/businesses/bakery/invites", json={"role": "owner"}, headers=admin_headers()
    )
    invite_id = made.json()["id"]
    url = f"/api/v1/businesses/bakery/invites/{invite_id}"
    assert (await app_client.delete(url, headers=admin_headers())).status_code == 204
    assert (await app_client.delete(url, headers=admin_headers())).status_code == 404
    path = made.json()["url"].split("town.example", 1)[1]
    opened = await app_client.get(path)
    assert opened.status_code == 303 and opened.headers["location"] == "/invite-ended"


async def test_only_the_admin_invites_admins_and_lists_them(app_client):
    data = await create_business(app_client, "bakery")
    owner = {"Authorization": f"Bearer {data['owner_token']}"}
    refused = await app_client.post("/api/v1/admin/invites", json={"role": "admin"}, headers=owner)
    assert refused.status_code == 403
    made = await app_client.post(
        "/api/v1/admin/invites", json={"role": "admin"}, headers=admin_headers()
    )
    assert made.status_code == 201 and made.json()["business"] is None
    listed = await app_client.get("/api/v1/admin/people", headers=admin_headers())
    assert listed.status_code == 200 and len(listed.json()["invites"]) == 1
