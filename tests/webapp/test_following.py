"""The Following page and "Follow back", as a browser without JavaScript uses them: follow
by handle, see it waiting, unfollow, follow back a follower; refusals by the field
(both backends)."""

from __future__ import annotations

import pytest

from fedi_town.store import businesses
from tests.api.helpers import followers_from
from tests.conftest import create_business
from tests.inbound.helpers import count, outgoing
from tests.webapp.kit import owner_of
from tests.webapp.test_followers import form_action

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"


async def test_nobody_followed_yet_says_so_and_offers_the_form(app_client):
    user = await owner_of(app_client, "bakery")
    page = await user.get("/app/bakery/following")
    assert page.status_code == 200
    assert "You do not follow anyone yet." in page.text
    assert 'name="account"' in page.text
    assert 'href="/app/bakery/following"' in page.text  # in the menu


async def test_following_a_business_here_by_handle_shows_it_waiting(app_client):
    # Given the bakery's owner, and a cafe on the same instance
    user = await owner_of(app_client, "bakery")
    await create_business(app_client, "cafe", display_name="Cafe")
    await user.get("/app/bakery/following")
    # When the owner follows @cafe
    done = await user.submit("/app/bakery/following", {"account": "@cafe"}, follow=True)
    # Then the page says it was asked, lists the cafe as waiting, and a Follow is queued
    assert "You asked to follow @cafe." in done.text
    assert "waiting for them to accept" in done.text
    assert "Withdraw the request to Cafe" in done.text
    [sent] = await outgoing(app_client.services.store, "Follow")
    assert sent["body"]["object"] == app_client.services.urls.actor("cafe")


async def test_an_account_that_cannot_be_found_is_explained_by_the_field(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery/following")
    refused = await user.submit("/app/bakery/following", {"account": "@nobody"})
    assert refused.status_code == 422
    assert "No account by that name" in refused.text or "no account by that name" in refused.text
    assert 'value="@nobody"' in refused.text
    empty = await user.submit("/app/bakery/following", {"account": "  "})
    assert empty.status_code == 422
    assert "Write who to follow" in empty.text
    assert await count(app_client.services.store, "following") == 0


async def test_unfollowing_removes_it_and_queues_an_undo(app_client):
    user = await owner_of(app_client, "bakery")
    await create_business(app_client, "cafe", display_name="Cafe")
    await user.get("/app/bakery/following")
    page = await user.submit("/app/bakery/following", {"account": "@cafe"}, follow=True)
    done = await user.submit(
        form_action(page.text, "Withdraw the request to Cafe"), {"name": "Cafe"}, follow=True
    )
    assert "You no longer follow Cafe." in done.text
    assert "You do not follow anyone yet." in done.text
    [undo] = await outgoing(app_client.services.store, "Undo")
    assert undo["body"]["object"]["type"] == "Follow"


async def test_a_follower_is_followed_back_with_one_tap(app_client):
    # Given Alice following the bakery
    user = await owner_of(app_client, "bakery")
    services = app_client.services
    business = await businesses.by_username(services.store, "bakery")
    await followers_from(services, business, ALICE)
    page = await user.get("/app/bakery/followers")
    assert f'name="account" value="{ALICE}"' in page.text
    # When the owner taps "Follow back Alice" (the form's hidden fields sent with it)
    done = await user.submit(
        form_action(page.text, "Follow back Alice"),
        {"name": "Alice", "account": ALICE, "back": "followers"},
        follow=True,
    )
    # Then the followers page says so, offers no second follow, and a Follow goes to her
    assert done.url.path == "/app/bakery/followers"
    assert "You asked to follow Alice." in done.text
    assert "You asked to follow back" in done.text
    assert "Follow back Alice" not in done.text
    [sent] = await outgoing(services.store, "Follow")
    assert sent["inboxes"] == [f"{ALICE}/inbox"]
