"""An event reaches a follower on another server: a real fedi-town under uvicorn delivers
the signed Create{Note} to a loopback peer, which can then fetch the Event it links."""

from __future__ import annotations

import re

import pytest

from tests.outbound.conftest import add_follower, owner

pytestmark = pytest.mark.anyio


async def test_a_follower_elsewhere_gets_the_note_and_can_fetch_the_event(live, peer):
    # Given alice on another server follows the bakery
    business = await live.create_business("bakery", display_name="Corner Bakery")
    alice = peer.actor("alice").uri
    await add_follower(live.store, business["id"], alice, inbox=f"{alice}/inbox")
    # When the owner publishes an event
    response = await live.client.post(
        "/api/v1/businesses/bakery/events",
        json={
            "title": "Summer fête",
            "start": "2030-07-06T10:00:00+00:00",
            "end": "2030-07-06T16:00:00+00:00",
            "place": {"name": "The green", "locality": "Bristol"},
        },
        headers=owner(business),
    )
    assert response.status_code == 201, response.text
    event = response.json()
    # Then alice's server receives a signed Create{Note} saying what, when and where
    [got] = await peer.wait_for(lambda r: r.type == "Create")
    assert got.verified, got.error
    note = got.json["object"]
    assert note["type"] == "Note" and note["id"].endswith(f"/statuses/{event['post_id']}")
    assert "Summer fête" in note["content"]
    assert "Sat 6 Jul 2030, 10:00–16:00 UTC" in note["content"]
    assert "The green, Bristol" in note["content"]
    # And following the Note's first link as an ActivityPub client gives the Event
    first_link = re.search(r'href="([^"]+)"', note["content"]).group(1)
    assert first_link == event["url"]
    fetched = await peer.get(first_link)
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["type"] == "Event" and fetched.json()["id"] == event["uri"]
