"""Fedify reads an event fedi-town serves: the AS2 Event (FEP-8a8e) fetched by its id parses
with its name, content, author, addressing, times and Place, and nothing makes Fedify warn."""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.harness import FedifyClient
from tests.interop.owner import PUBLIC, Owner

pytestmark = pytest.mark.anyio


async def test_fedify_fetches_an_event_with_its_times_and_place(
    live: Any, fedify: FedifyClient
) -> None:
    # Given an event with a place of its own and an image
    owner = await Owner.create(live, "corner_bakery")
    media = await owner.upload_png("Stalls on the green")
    event = await owner.call(
        "POST",
        "/events",
        201,
        json={
            "title": "Summer fête",
            "text": "Cakes and **games**",
            "start": "2030-07-06T10:00:00+01:00",
            "end": "2030-07-06T16:00:00+01:00",
            "place": {
                "name": "The green",
                "locality": "Bristol",
                "country": "GB",
                "latitude": 51.4545,
                "longitude": -2.5879,
            },
            "media_id": media["id"],
        },
    )

    # When Fedify looks the Event up by its id
    result = await fedify.fetch(event["uri"])

    # Then it is an Event by the business, public, with its times, place and image
    assert result["found"], result["log"]
    found = result["object"]
    assert found["type"] == "Event" and found["id"] == event["uri"]
    assert found["attributedTo"] == [owner.actor]
    assert found["to"] == [PUBLIC]
    assert "<strong>games</strong>" in found["content"]
    assert found["url"] == event["url"]
    assert found["startTime"] == "2030-07-06T09:00:00Z"
    assert found["endTime"] == "2030-07-06T15:00:00Z"
    assert found["location"] == {
        "type": "Place",
        "name": "The green",
        "latitude": 51.4545,
        "longitude": -2.5879,
    }
    [image] = found["attachments"]
    assert image["url"] == media["url"] and image["name"] == "Stalls on the green"
    assert result["warnings"] == []
