"""outbound.profile: followers hear of a changed profile (Update with the whole actor) and of a
deleted business (Delete of the actor), queued in the API's request, one row per server."""

from __future__ import annotations

import pytest

from tests.outbound.conftest import activities, deliveries, owner, write_post

pytestmark = pytest.mark.anyio

ACTOR = "https://town.example/users/bakery"
INBOXES = ["https://m.example/inbox", "https://solo.example/u/cy/inbox"]


async def test_a_changed_profile_is_sent_whole_to_each_follower_server_once(app_client, bakery):
    # Given a business with three followers on two servers
    # When its owner changes the display name
    response = await app_client.patch(
        "/api/v1/businesses/bakery", json={"display_name": "Rye & Co"}, headers=owner(bakery)
    )
    # Then one Update carrying the whole new actor is queued, once per server
    assert response.status_code == 200, response.text
    [update] = await activities(app_client.services.store, "Update")
    assert update["actor"] == ACTOR
    assert update["object"]["id"] == ACTOR
    assert update["object"]["name"] == "Rye & Co"
    assert update["object"]["type"] == "Organization"
    rows = await deliveries(app_client.services.store)
    assert sorted(r["inbox"] for r in rows if r["type"] == "Update") == INBOXES


async def test_a_deleted_business_cancels_what_was_pending_and_tells_its_followers(
    app_client, bakery
):
    # Given a post whose deliveries are still pending
    assert (await write_post(app_client, bakery, content="Last loaves")).status_code == 201
    # When the owner deletes the business
    response = await app_client.delete("/api/v1/businesses/bakery", headers=owner(bakery))
    # Then the post's deliveries are cancelled, and a Delete of the actor goes to each server
    assert response.status_code == 204
    [delete] = await activities(app_client.services.store, "Delete")
    assert (delete["actor"], delete["object"], delete["id"]) == (ACTOR, ACTOR, f"{ACTOR}#delete")
    rows = await deliveries(app_client.services.store)
    assert {r["state"] for r in rows if r["type"] == "Create"} == {"cancelled"}
    assert sorted(r["inbox"] for r in rows if r["type"] == "Delete") == INBOXES
    assert {r["state"] for r in rows if r["type"] == "Delete"} == {"pending"}
