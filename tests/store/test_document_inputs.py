"""store.document_inputs: stored rows to the typed inputs of the protocol builders.

The documents it makes are the ones the read side serves, byte for byte, so outbound/ can
deliver them without importing read/.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from fedi_town.store import document_inputs, reads
from fedi_town.text.sanitize import html_to_text, sanitize_html
from tests.conftest import create_business
from tests.read.helpers import (
    AP,
    business,
    insert_interaction,
    insert_post,
    insert_remote_actor,
    services,
    set_profile,
)

pytestmark = pytest.mark.anyio

ACTOR = "https://town.example/users/bakery"


async def test_the_actor_document_is_what_the_actor_url_serves(app_client):
    # Given a business with a website and a field
    await create_business(app_client)
    await set_profile(app_client, "bakery", website="https://bakery.example", phone="+49 30 1234")
    owner = await business(app_client, "bakery")
    svc = services(app_client)
    # When its actor document is built from the stored row
    built = await document_inputs.actor_document(svc.store, svc.urls, owner)
    # Then it is the document the actor URL serves
    served = (await app_client.get(ACTOR, headers=AP)).json()
    assert built == served
    assert [f["name"] for f in built["attachment"]] == ["Phone", "Website"]


async def test_note_inputs_keep_the_order_and_batch_the_counts(app_client):
    # Given two posts, the second liked once
    await create_business(app_client)
    first = await insert_post(app_client)
    second = await insert_post(app_client, visibility="unlisted")
    alice, _ = await insert_remote_actor(app_client)
    await insert_interaction(app_client, second, alice, "like")
    owner = await business(app_client, "bakery")
    svc = services(app_client)
    posts = [await reads.post_by_id(svc.store, owner.id, i) for i in (second, first)]
    # When their inputs are built together
    inputs = await document_inputs.note_inputs(
        svc.store, svc.urls, owner, [p for p in posts if p is not None]
    )
    # Then each input is its post's, in the order asked, with its own counts
    assert [n.id for n in inputs] == [f"{ACTOR}/statuses/{second}", f"{ACTOR}/statuses/{first}"]
    assert [n.likes_count for n in inputs] == [1, 0]
    assert [n.visibility for n in inputs] == ["unlisted", "public"]


async def test_the_note_document_is_what_the_note_url_serves(app_client):
    await create_business(app_client)
    post_id = await insert_post(app_client)
    owner = await business(app_client, "bakery")
    svc = services(app_client)
    post = await reads.post_by_id(svc.store, owner.id, post_id)
    assert post is not None
    built = await document_inputs.note_document(svc.store, svc.urls, owner, post)
    served = (await app_client.get(f"{ACTOR}/statuses/{post_id}", headers=AP)).json()
    assert built == served


async def test_the_instance_actor_carries_the_name_and_key_given(app_client):
    svc = services(app_client)
    doc = document_inputs.instance_actor_document(svc.urls, name="Town", public_key_pem="PEM")
    assert doc["type"] == "Application"
    assert doc["name"] == "Town"
    assert doc["publicKey"]["publicKeyPem"] == "PEM"
    assert doc == (await app_client.get("/actor", headers=AP)).json() | {
        "name": "Town",
        "publicKey": doc["publicKey"],
    }


HREF = re.compile(r'href="([^"]*)"')


def _shown(document) -> dict[str, str]:
    """The actor's fields as a Mastodon user reads them: name → text of the sanitised value."""
    shown = {}
    for field in document["attachment"]:
        kept = sanitize_html(field["value"])  # what Mastodon's sanitiser keeps of it
        assert HREF.findall(kept) == HREF.findall(field["value"])
        shown[field["name"]] = html_to_text(kept)
    return shown


BERLIN_HOURS = {
    "hours": {d: [["07:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    | {"sat": [["08:00", "13:00"]]},
    "timezone": "Europe/Berlin",
}


@pytest.mark.parametrize(
    ("local", "now", "today"),
    [
        # FIXED_NOW is Monday 23 Nov 2026, 12:00 UTC: 13:00 in Berlin
        ("Mon 13:00", "Open now · until 18:00", "7:00–18:00"),
        ("Mon 18:00", "Closed · opens tomorrow 7:00", "7:00–18:00"),
        ("Sat 12:59", "Open now · until 13:00", "8:00–13:00"),
        ("Sat 13:00", "Closed · opens Mon 7:00", "8:00–13:00"),
        ("Sun 10:00", "Closed · opens tomorrow 7:00", "Closed today"),
    ],
)
async def test_the_actor_says_whether_the_business_is_open_in_its_own_zone(
    app_client, local, now, today
):
    # Given a bakery in Berlin open Mon-Fri 7-18 and Sat 8-13, with a street address
    await create_business(app_client)
    await set_profile(
        app_client,
        "bakery",
        location={
            "street_address": "Mühlenweg 1",
            "postal_code": "10115",
            "locality": "Berlin",
            "country": "DE",
            "latitude": 52.53,
            "longitude": 13.38,
        },
        phone="+49 30 1234",
        **BERLIN_HOURS,
    )
    owner = await business(app_client, "bakery")
    svc = services(app_client)
    day, clock = local.split()
    days = {"Mon": 23, "Sat": 28, "Sun": 29}
    hour, minute = (int(x) for x in clock.split(":"))
    instant = datetime(2026, 11, days[day], hour, minute, tzinfo=ZoneInfo("Europe/Berlin"))
    # When its actor is built at that instant
    built = await document_inputs.actor_document(
        svc.store, svc.urls, owner, now=int(instant.timestamp() * 1000)
    )
    # Then the first fields say it, as Mastodon shows them, before the address and phone
    fields = _shown(built)
    assert list(fields)[:4] == ["Now", "Today", "Address", "Phone"]
    assert fields["Now"] == now
    assert fields["Today"] == today
    assert fields["Address"] == "Mühlenweg 1, 10115 Berlin, DE"
    address = next(f for f in built["attachment"] if f["name"] == "Address")
    assert 'href="https://www.openstreetmap.org/?mlat=52.53&amp;mlon=13.38' in address["value"]


async def test_a_service_area_is_published_instead_of_any_street_address(app_client):
    # Given a plumber with an address on file who works in a service area
    await create_business(app_client, "plumber")
    await set_profile(
        app_client,
        "plumber",
        location={
            "street_address": "Hinterhof 3",
            "locality": "Köln",
            "latitude": 50.9,
            "longitude": 6.9,
        },
        service_area="Köln and 20 km around",
        email="help@plumber.example",
    )
    owner = await business(app_client, "plumber")
    svc = services(app_client)
    # When its actor is built
    built = await document_inputs.actor_document(svc.store, svc.urls, owner, now=0)
    # Then it names the area, never the street or the coordinates
    fields = _shown(built)
    assert fields["Area"] == "Köln and 20 km around"
    assert fields["Email"] == "help@plumber.example"
    text = json.dumps(built)
    assert "Hinterhof" not in text and "50.9" not in text
    # And peers that read JSON-LD get the area in schema.org terms, defined in the context
    assert built["areaServed"] == "Köln and 20 km around"
    assert built["@context"][-1]["areaServed"] == "schema:areaServed"
    assert built["location"]["address"] == {"type": "PostalAddress", "addressLocality": "Köln"}
    assert "latitude" not in built["location"]


async def test_time_alone_changes_the_actor_at_opening_closing_midnight_and_a_notice_end(
    app_client,
):
    # Given the Berlin bakery with a notice ending Monday 15:00 local
    await create_business(app_client)
    berlin = ZoneInfo("Europe/Berlin")
    notice_end = int(datetime(2026, 11, 23, 15, 0, tzinfo=berlin).timestamp() * 1000)
    await set_profile(
        app_client, "bakery", notice_text="Rye sold out", notice_until=notice_end, **BERLIN_HOURS
    )
    owner = await business(app_client, "bakery")
    store = services(app_client).store

    def at(day: int, hour: int) -> int:
        return int(datetime(2026, 11, day, hour, 0, tzinfo=berlin).timestamp() * 1000)

    # Then from Monday 13:00 the next change is the notice's end, then closing, then midnight
    assert await document_inputs.profile_changes_at(store, owner, at(23, 13)) == notice_end
    assert await document_inputs.profile_changes_at(store, owner, notice_end) == at(23, 18)
    assert await document_inputs.profile_changes_at(store, owner, at(23, 18)) == at(24, 0)
    assert await document_inputs.profile_changes_at(store, owner, at(24, 0)) == at(24, 7)


async def test_a_business_without_hours_or_notice_never_changes_with_time(app_client):
    await create_business(app_client)
    owner = await business(app_client, "bakery")
    assert await document_inputs.profile_changes_at(services(app_client).store, owner, 0) is None
