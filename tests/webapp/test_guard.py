"""Who reaches which app page: sign-in redirects that come back, another business's pages
and the admin pages answer 404 (both backends)."""

from __future__ import annotations

import pytest

from tests.conftest import admin_headers
from tests.webapp.kit import AppUser, admin_user, owner_of

pytestmark = pytest.mark.anyio


async def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in_and_back(app_client):
    page = await AppUser(app_client).get("/app/bakery?x=1")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/app/bakery%3Fx%3D1"


async def test_a_staff_member_reaches_their_own_business(app_client):
    await owner_of(app_client, "bakery", login="anna")
    staff = await owner_of(app_client, "bakery", login="bert", role="staff", create=False)
    assert (await staff.get("/app/bakery")).status_code == 200
    assert (await staff.get("/app")).headers["location"] == "/app/bakery"


async def test_a_business_that_does_not_exist_and_one_of_another_owner_look_the_same(app_client):
    anna = await owner_of(app_client, "bakery", login="anna")
    await owner_of(app_client, "cafe", login="carl")
    other = await anna.get("/app/cafe")
    missing = await anna.get("/app/nowhere")
    weird = await anna.get("/app/%00")
    assert other.status_code == missing.status_code == weird.status_code == 404
    assert "There is no business here for you." in other.text


async def test_a_deleted_business_is_gone_for_its_people_too(app_client):
    anna = await owner_of(app_client, "bakery", login="anna")
    await app_client.delete("/api/v1/businesses/bakery", headers=admin_headers())
    assert (await anna.get("/app/bakery")).status_code == 404
    assert (await anna.get("/app")).headers["location"] == "/app/account"
    root = await admin_user(app_client)
    assert (await root.get("/app/bakery")).status_code == 404
