"""Fedify sends what Mastodon converts into a status (issue #17): a Mobilizon-style ``Event``
invitation and a Pixelfed-style ``Image`` post, each mentioning a business, built and signed
with Fedify's vocabulary. Both reach the owner's notifications as mentions, converted as
Mastodon converts them (the name in bold, a link to the object, links to its attachments),
sanitised: no script, no ``javascript:`` link, no link off the object's own host.

The conversion itself, with payloads shaped as each project sends them, is tested in
tests/inbound/handlers/test_converted.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.harness import FedifyClient
from tests.interop.owner import Owner

pytestmark = pytest.mark.anyio

LINK = 'rel="nofollow noopener noreferrer"'


async def test_a_fedify_event_invitation_reaches_the_owner_as_a_mention(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business, and an invitation to an event the Fedify actor organises
    owner = await Owner.create(live, "corner_bakery")
    banner = f"{fedify.peer.base_url}/media/banner.jpg"

    # When Fedify sends Create{Event} mentioning the business, with a page URL on another host
    sent = await fedify.send_object(
        "Event",
        owner.actor,
        name="Christmas market <script>alert(1)</script>with <b>the bakery</b>",
        content="<p>Stalls from 10:00, bring a stall. <script>alert(2)</script></p>",
        url="https://elsewhere.example/events/market",
        startTime="2030-12-19T09:00:00Z",
        endTime="2030-12-19T17:00:00Z",
        location={"name": "Town square", "latitude": 51.45, "longitude": -2.58},
        attachments=[{"url": banner, "mediaType": "image/jpeg", "name": "Banner"}],
    )
    assert sent["ok"], sent
    assert sent["activity"]["object"]["type"] == "Event"
    assert sent["activity"]["object"]["location"]["type"] == "Place"

    # Then the owner has a mention from the Fedify actor: its title, a link to the event (its
    # id: the off-host url is not trusted) and the banner, and nothing that runs
    [mention] = await owner.wait_for_notification("mention")
    assert mention["account"]["id"] == fedify.actor_id
    note = mention["note"]
    event = sent["object"]
    assert note["uri"] == event
    assert note["content"] == (
        "<p><strong>Christmas market with the bakery</strong></p>"
        f'<p><a href="{event}" {LINK}>{event}</a></p>'
        f'<p><a href="{banner}" {LINK}>Banner</a></p>'
    )
    assert "elsewhere.example" not in note["content"]
    assert note["url"] == event  # its off-host page is not trusted: the owner's link is its id
    assert note["summary"] is None and note["visibility"] == "public"
    assert [(a["url"], a["description"]) for a in note["attachments"]] == [(banner, "Banner")]


async def test_a_fedify_image_post_reaches_the_owner_with_its_photo_linked(
    live: Any, fedify: FedifyClient
) -> None:
    # Given a business, and a photo post by the Fedify actor
    owner = await Owner.create(live, "corner_bakery")
    page = f"{fedify.peer.base_url}/p/fedi/765432"
    photo = f"{fedify.peer.base_url}/storage/m/croissants.jpg"

    # When Fedify sends Create{Image} mentioning the business, one attachment a script link
    sent = await fedify.send_object(
        "Image",
        owner.actor,
        name="Our <i>croissants</i>, bought this morning",
        url=page,
        attachments=[
            {"url": photo, "mediaType": "image/jpeg", "name": "Three croissants on a plate"},
            {"url": "javascript:alert(1)", "mediaType": "image/png", "name": "Click me"},
        ],
    )
    assert sent["ok"], sent
    assert sent["activity"]["object"]["type"] == "Image"

    # Then the owner has a mention: the name, a link to its page and one to the photo only
    [mention] = await owner.wait_for_notification("mention")
    assert mention["account"]["id"] == fedify.actor_id
    note = mention["note"]
    assert note["uri"] == sent["object"]
    assert note["content"] == (
        "<p><strong>Our croissants, bought this morning</strong></p>"
        f'<p><a href="{page}" {LINK}>{page}</a></p>'
        f'<p><a href="{photo}" {LINK}>Three croissants on a plate</a></p>'
    )
    assert "javascript" not in str(mention) and "Click me" not in note["content"]
    assert note["url"] == page
    assert [(a["url"], a["description"]) for a in note["attachments"]] == [
        (photo, "Three croissants on a plate")
    ]
