"""Businesses on one instance follow and mention each other without HTTP.

The instance runs with the address guard on (``allow_private_addresses`` off, as in
production): any request it made to itself on 127.0.0.1 would be refused and leave a failed
or retried row. So "every delivery handed over (202, one attempt), every inbox item done at
its first attempt, nothing refused" is the proof that nothing went over the network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fedi_town.errors import Unprocessable
from fedi_town.outbound import following as commands
from fedi_town.store import businesses
from tests.live import LiveInstance, live_instance, wait_until

pytestmark = pytest.mark.anyio


@pytest.fixture
async def guarded(database_url: str, tmp_path: Path) -> AsyncIterator[LiveInstance]:
    """A live instance that refuses private and loopback addresses, itself included."""
    async with live_instance(database_url, tmp_path, allow_private_addresses=False) as instance:
        yield instance


async def _owner(live: LiveInstance, username: str) -> dict[str, str]:
    data = await live.create_business(username)
    return {"Authorization": f"Bearer {data['owner_token']}"}


async def _nothing_went_over_http(live: LiveInstance) -> None:
    """Every delivery was handed to our own inbox and every item handled at once."""
    deliveries = await live.store.fetch_all(
        "SELECT inbox, state, attempts, last_status, last_error FROM deliveries"
    )
    assert deliveries
    for row in deliveries:
        assert row["inbox"].startswith(live.base_url + "/"), row
        assert (row["state"], row["last_status"], row["last_error"]) == ("done", 202, None), row
    items = await live.store.fetch_all("SELECT type, state, attempts, last_error FROM inbox_items")
    for item in items:
        assert (item["state"], item["last_error"]) == ("done", None), item


async def _all_done(live: LiveInstance) -> bool:
    waiting = await live.store.fetch_val(
        "SELECT (SELECT COUNT(*) FROM deliveries WHERE state <> 'done') "
        "+ (SELECT COUNT(*) FROM inbox_items WHERE state <> 'done')"
    )
    return int(waiting) == 0


async def test_a_business_follows_another_here_and_is_accepted_without_http(
    guarded: LiveInstance,
) -> None:
    # Given two businesses on one guarded instance
    live = guarded
    bakery = await _owner(live, "bakery")
    cafe = await _owner(live, "cafe")

    # When the cafe follows the bakery by its local handle
    response = await live.client.post(
        "/api/v1/businesses/cafe/following", json={"account": "@bakery"}, headers=cafe
    )
    assert response.status_code == 201, response.text

    # Then the bakery has the cafe as a follower, and the cafe's follow is accepted
    async def accepted() -> bool:
        listed = await live.client.get("/api/v1/businesses/cafe/following", headers=cafe)
        return [f["state"] for f in listed.json()["items"]] == ["accepted"]

    await wait_until(accepted)
    followers = await live.client.get("/api/v1/businesses/bakery/followers", headers=bakery)
    [follower] = followers.json()["items"]
    assert follower["account"]["id"] == live.urls.actor("cafe")
    assert follower["you_follow"] is None  # the bakery may follow back
    await wait_until(lambda: _all_done(live))
    await _nothing_went_over_http(live)


async def test_a_mention_of_a_business_here_reaches_it_without_http(
    guarded: LiveInstance,
) -> None:
    # Given the cafe following the bakery on one guarded instance
    live = guarded
    bakery = await _owner(live, "bakery")
    cafe = await _owner(live, "cafe")
    await live.client.post(
        "/api/v1/businesses/cafe/following",
        json={"account": live.urls.handle("bakery")},
        headers=cafe,
    )

    # When the cafe posts a mention of the bakery
    response = await live.client.post(
        "/api/v1/businesses/cafe/posts",
        json={"content": "Our bread comes from @bakery, next door."},
        headers=cafe,
    )
    assert response.status_code == 201, response.text
    assert response.json()["unresolved_mentions"] == []

    # Then the bakery is notified of the mention (and of its new follower)
    async def mentioned() -> list[Any]:
        listed = await live.client.get("/api/v1/businesses/bakery/notifications", headers=bakery)
        return [n for n in listed.json()["items"] if n["type"] == "mention"]

    [mention] = await wait_until(mentioned)
    assert mention["account"]["id"] == live.urls.actor("cafe")
    await wait_until(lambda: _all_done(live))
    await _nothing_went_over_http(live)


async def test_unfollowing_a_business_here_removes_the_follower_without_http(
    guarded: LiveInstance,
) -> None:
    # Given the cafe following the bakery
    live = guarded
    bakery = await _owner(live, "bakery")
    cafe = await _owner(live, "cafe")
    created = await live.client.post(
        "/api/v1/businesses/cafe/following", json={"account": "@bakery"}, headers=cafe
    )

    async def followers() -> list[Any]:
        listed = await live.client.get("/api/v1/businesses/bakery/followers", headers=bakery)
        items: list[Any] = listed.json()["items"]
        return items

    await wait_until(followers)

    # When the cafe unfollows
    gone = await live.client.delete(
        f"/api/v1/businesses/cafe/following/{created.json()['id']}", headers=cafe
    )

    # Then the bakery no longer has it as a follower
    assert gone.status_code == 204
    await wait_until(lambda: _all_done(live))
    assert await followers() == []
    await _nothing_went_over_http(live)


async def test_a_business_here_that_does_not_exist_cannot_be_followed(
    guarded: LiveInstance,
) -> None:
    live = guarded
    await _owner(live, "cafe")
    cafe = await businesses.by_username(live.store, "cafe")
    assert cafe is not None
    for account in ("@nobody", live.urls.actor("nobody"), live.base_url + "/about"):
        with pytest.raises(Unprocessable):
            await commands.find_account(live.services, cafe, account)


async def test_a_business_replying_in_its_own_thread_is_not_notified_of_itself(
    guarded: LiveInstance,
) -> None:
    # Given the cafe following the bakery (so the bakery's posts reach this instance's inbox)
    live = guarded
    bakery = await _owner(live, "bakery")
    cafe = await _owner(live, "cafe")
    await live.client.post(
        "/api/v1/businesses/cafe/following", json={"account": "@bakery"}, headers=cafe
    )
    await wait_until(lambda: _all_done(live))
    first = await live.client.post(
        "/api/v1/businesses/bakery/posts", json={"content": "Rye today."}, headers=bakery
    )
    assert first.status_code == 201, first.text

    # When the bakery replies to its own post, and the cafe replies to it too
    own = await live.client.post(
        "/api/v1/businesses/bakery/posts",
        json={"content": "And spelt.", "in_reply_to": first.json()["uri"]},
        headers=bakery,
    )
    assert own.status_code == 201, own.text
    theirs = await live.client.post(
        "/api/v1/businesses/cafe/posts",
        json={"content": "We will take two.", "in_reply_to": first.json()["uri"]},
        headers=cafe,
    )
    assert theirs.status_code == 201, theirs.text
    await wait_until(lambda: _all_done(live))

    # Then the bakery is notified of the cafe's reply only
    listed = await live.client.get("/api/v1/businesses/bakery/notifications", headers=bakery)
    replies = [n for n in listed.json()["items"] if n["type"] == "reply"]
    assert [n["account"]["id"] for n in replies] == [live.urls.actor("cafe")]
    await _nothing_went_over_http(live)
