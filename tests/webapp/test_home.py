"""The business's Today page: status, counts, and the one-tap notices (both backends)."""

from __future__ import annotations

import pytest

from tests.conftest import admin_headers
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio


async def notice(app_client):
    view = await app_client.get("/api/v1/businesses/bakery", headers=admin_headers())
    return view.json()["notice"]


async def test_closed_today_is_one_tap_and_ends_at_the_shops_midnight(app_client):
    user = await owner_of(app_client, "bakery", timezone="Europe/Berlin")
    await user.get("/app/bakery")
    page = await user.submit("/app/bakery/notice", {"action": "closed"}, follow=True)
    assert "Your profile now says" in page.text and "until midnight" in page.text
    found = await notice(app_client)
    assert found["text"] == "Closed today"
    assert found["until"].endswith(("T23:00:00Z", "T22:00:00Z"))  # Berlin's midnight
    page = await user.submit("/app/bakery/notice", {"action": "clear"}, follow=True)
    assert "Notice cleared" in page.text
    assert await notice(app_client) is None


async def test_sold_out_and_a_notice_of_ones_own(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery")
    await user.submit("/app/bakery/notice", {"action": "sold_out"}, follow=True)
    assert (await notice(app_client))["text"].startswith("Sold out")
    page = await user.submit(
        "/app/bakery/notice", {"action": "custom", "text": "  Back at 2 pm  "}, follow=True
    )
    assert (await notice(app_client))["text"] == "Back at 2 pm"
    assert "Back at 2 pm" in page.text


async def test_a_notice_too_long_for_the_api_says_why_and_keeps_the_old_one(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery")
    await user.submit("/app/bakery/notice", {"action": "closed"})
    await user.get("/app/bakery")
    page = await user.submit(
        "/app/bakery/notice", {"action": "custom", "text": "x" * 600}, follow=True
    )
    assert (await notice(app_client))["text"] == "Closed today"
    assert 'class="flash"' in page.text


async def test_the_page_shows_the_status_and_who_waits_to_follow(app_client):
    user = await owner_of(app_client, "bakery", hours={"mon": [["00:00", "24:00"]]}, timezone="UTC")
    page = await user.get("/app/bakery")
    assert page.status_code == 200
    assert "waiting to follow" in page.text and "followers" in page.text
