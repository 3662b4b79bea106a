"""The followers page: requests approved or rejected, followers removed or blocked, and
approval of new followers switched on and off (both backends)."""

from __future__ import annotations

import re

import pytest

from fedi_town.store import businesses
from tests.api.helpers import followers_from
from tests.conftest import admin_headers
from tests.inbound.helpers import count, outgoing
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
BOB = "https://gts.example/users/bob"


async def bakery_with(app_client, *actors: str, manual: bool = False):
    """The bakery's signed-in owner, and ``actors`` who followed (or asked to)."""
    user = await owner_of(app_client, "bakery", manually_approves_followers=manual)
    services = app_client.services
    business = await businesses.by_username(services.store, "bakery")
    await followers_from(services, business, *actors)
    return user, services


def form_action(html: str, button: str) -> str:
    """The action of the form whose submit button says ``button``."""
    for form in re.findall(r"<form [^>]*>.*?</form>", html, re.S):
        if f">{button}</button>" in form:
            found = re.search(r'action="([^"]+)"', form)
            assert found is not None
            return found.group(1)
    raise AssertionError(f"no button {button!r}")


async def test_a_request_approved_becomes_a_follower_and_an_accept_is_queued(app_client):
    # Given a business that approves its followers, and Alice asking
    user, services = await bakery_with(app_client, ALICE, manual=True)
    page = await user.get("/app/bakery/followers")
    assert 'id="requests"' in page.text and "Waiting to follow (1)" in page.text
    # When the owner taps "Approve Alice"
    done = await user.submit(form_action(page.text, "Approve Alice"), {"name": "Alice"})
    assert done.status_code == 303
    back = await user.get(done.headers["location"])
    # Then Alice follows, the page says so, and an Accept of her Follow goes to her
    assert "Alice now follows you" in back.text
    assert "Nobody is waiting." in back.text and "Remove Alice" in back.text
    followers = await app_client.get("/api/v1/businesses/bakery/followers", headers=admin_headers())
    assert [f["account"]["id"] for f in followers.json()["items"]] == [ALICE]
    [accept] = await outgoing(services.store, "Accept")
    assert accept["body"]["object"]["actor"] == ALICE
    assert accept["inboxes"] == [f"{ALICE}/inbox"]


async def test_a_request_rejected_is_gone_and_a_reject_is_queued(app_client):
    user, services = await bakery_with(app_client, ALICE, manual=True)
    page = await user.get("/app/bakery/followers")
    done = await user.submit(form_action(page.text, "Reject Alice"), {"name": "Alice"}, follow=True)
    assert "You said no to Alice" in done.text
    assert await count(services.store, "follows") == 0
    [reject] = await outgoing(services.store, "Reject")
    assert reject["body"]["object"]["actor"] == ALICE


async def test_a_request_answered_twice_says_it_was_already_answered(app_client):
    user, services = await bakery_with(app_client, ALICE, manual=True)
    page = await user.get("/app/bakery/followers")
    action = form_action(page.text, "Approve Alice")
    token = user.csrf()
    await user.submit(action, {"name": "Alice"})
    again = await user.submit(action, {"name": "Alice"}, csrf=token, follow=True)
    assert "That request was already answered." in again.text
    assert len(await outgoing(services.store, "Accept")) == 1


async def test_a_follower_removed_stops_following_and_is_sent_a_reject(app_client):
    # Given Alice and Bob follow
    user, services = await bakery_with(app_client, ALICE, BOB)
    page = await user.get("/app/bakery/followers")
    assert "Following you (2)" in page.text
    # When the owner removes Alice
    done = await user.submit(form_action(page.text, "Remove Alice"), {"name": "Alice"}, follow=True)
    # Then only Bob follows, and Alice is told with a Reject of her Follow
    assert "Alice no longer follows you" in done.text and "Remove Bob" in done.text
    assert "Remove Alice" not in done.text
    [reject] = await outgoing(services.store, "Reject")
    assert reject["body"]["object"]["actor"] == ALICE


async def test_a_follower_blocked_from_the_page_is_blocked_and_removed(app_client):
    user, services = await bakery_with(app_client, ALICE, BOB)
    page = await user.get("/app/bakery/followers")
    assert form_action(page.text, "Block Alice") == "/app/bakery/followers/block"
    done = await user.submit(
        "/app/bakery/followers/block", {"name": "Alice", "actor": ALICE}, follow=True
    )
    assert "Alice is blocked" in done.text and "Block Alice" not in done.text
    blocks = await app_client.get("/api/v1/businesses/bakery/blocks", headers=admin_headers())
    assert [b["actor"] for b in blocks.json()["items"]] == [ALICE]
    assert len(await outgoing(services.store, "Reject")) == 1


async def test_approval_is_explained_and_switched_from_the_page(app_client):
    # Given a business anyone may follow
    user, _ = await bakery_with(app_client)
    page = await user.get("/app/bakery/followers")
    assert "Anyone can follow you straight away" in page.text
    # When the owner asks to approve followers, then lets everyone in again
    on = await user.submit("/app/bakery/followers/approval", {"approve": "yes"}, follow=True)
    view = await app_client.get("/api/v1/businesses/bakery", headers=admin_headers())
    assert view.json()["manually_approves_followers"] is True
    off = await user.submit("/app/bakery/followers/approval", {"approve": "no"}, follow=True)
    # Then each time the page says what happens now, and the business says it too
    assert "you approve each new follower yourself" in on.text
    assert "Let anyone follow without asking" in on.text
    assert "anyone can follow you without asking" in off.text
    view = await app_client.get("/api/v1/businesses/bakery", headers=admin_headers())
    assert view.json()["manually_approves_followers"] is False


async def test_many_followers_page_with_a_more_link(app_client):
    fans = [f"https://m{i}.example/users/fan{i}" for i in range(41)]
    user, _ = await bakery_with(app_client, *fans)
    first = await user.get("/app/bakery/followers")
    assert first.text.count("Remove Fan") == 40
    more = re.search(r'href="([^"]+)">More followers</a>', first.text)
    assert more is not None
    second = await user.get(more.group(1).replace("&amp;", "&"))
    assert second.text.count("Remove Fan") == 1 and "Remove Fan0" in second.text


async def test_another_businesss_followers_are_404(app_client):
    user = await owner_of(app_client, "bakery")
    await owner_of(app_client, "cafe", login="carl")
    assert (await user.get("/app/cafe/followers")).status_code == 404
    await user.get("/app/bakery/followers")
    answer = await user.submit("/app/cafe/followers/block", {"actor": ALICE})
    assert answer.status_code == 404
