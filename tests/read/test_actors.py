"""Actor documents: every field Mastodon reads, exact @context, content type, tombstones."""

from __future__ import annotations

import pytest

from fedi_town.protocol.vocabulary import ACTOR_CONTEXT
from tests.conftest import admin_headers, create_business
from tests.read.helpers import (
    AP,
    BROWSER,
    LD,
    MASTODON,
    business,
    insert_follow,
    insert_media,
    insert_remote_actor,
    services,
    set_profile,
)

pytestmark = pytest.mark.anyio

#: Copied from the interop reference, section 2: what Mastodon 4.5 emits.
MASTODON_ACTOR_CONTEXT = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "discoverable": "toot:discoverable",
        "suspended": "toot:suspended",
        "memorial": "toot:memorial",
        "indexable": "toot:indexable",
        "attributionDomains": {"@id": "toot:attributionDomains", "@type": "@id"},
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    },
]

ACTOR = "https://town.example/users/bakery"


async def _bakery(client):
    return await create_business(
        client,
        "bakery",
        display_name="Corner Bakery",
        summary="Fresh **bread** every morning",
        website="https://bakery.example/",
        phone="+1 (555) 010-2030",
        address="1 Main Street",
        fields=[
            {"name": "Hours", "value": "7-18 <Mon-Sat>"},
            {"name": "Menu", "value": "https://bakery.example/menu"},
        ],
    )


async def test_actor_is_an_organization_with_every_field_mastodon_reads(app_client):
    # Given a business with a full profile
    await _bakery(app_client)
    # When Mastodon fetches its actor
    response = await app_client.get("/users/bakery", headers=MASTODON)
    # Then it is ActivityStreams JSON whose id is the URL asked for
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    assert "Accept" in response.headers["vary"]
    actor = response.json()
    assert actor["@context"] == MASTODON_ACTOR_CONTEXT == ACTOR_CONTEXT
    assert actor["id"] == ACTOR == str(response.url)
    assert actor["type"] == "Organization"
    assert actor["preferredUsername"] == "bakery"
    assert actor["name"] == "Corner Bakery"
    assert actor["summary"] == "<p>Fresh <strong>bread</strong> every morning</p>"
    assert actor["url"] == "https://town.example/@bakery"
    assert actor["inbox"] == f"{ACTOR}/inbox"
    assert actor["outbox"] == f"{ACTOR}/outbox"
    assert actor["followers"] == f"{ACTOR}/followers"
    assert actor["following"] == f"{ACTOR}/following"
    assert actor["featured"] == f"{ACTOR}/collections/featured"
    assert actor["featuredTags"] == f"{ACTOR}/collections/tags"
    assert actor["endpoints"] == {"sharedInbox": "https://town.example/inbox"}
    assert actor["publicKey"]["id"] == f"{ACTOR}#main-key"
    assert actor["publicKey"]["owner"] == ACTOR
    assert actor["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert actor["manuallyApprovesFollowers"] is False
    assert actor["discoverable"] is True
    assert actor["indexable"] is True
    assert actor["memorial"] is False
    assert actor["published"].endswith("Z") and "T" in actor["published"]
    assert "icon" not in actor and "image" not in actor


async def test_profile_fields_are_an_array_of_property_values(app_client):
    await _bakery(app_client)
    actor = (await app_client.get("/users/bakery", headers=AP)).json()
    fields = actor["attachment"]
    assert isinstance(fields, list)
    assert all(f["type"] == "PropertyValue" for f in fields)
    by_name = {f["name"]: f["value"] for f in fields}
    assert list(by_name) == ["Address", "Phone", "Website", "Hours", "Menu"]
    # The website link's text equals its href, so Mastodon can verify it
    assert by_name["Website"] == (
        '<a href="https://bakery.example/" rel="me nofollow noopener noreferrer" '
        'target="_blank">https://bakery.example/</a>'
    )
    assert by_name["Phone"] == '<a href="tel:+15550102030">+1 (555) 010-2030</a>'
    assert by_name["Address"] == "1 Main Street"
    # Owner-written values are escaped, plain URLs linked
    assert by_name["Hours"] == "7-18 &lt;Mon-Sat&gt;"
    assert by_name["Menu"].startswith('<a href="https://bakery.example/menu"')


async def test_avatar_and_header_are_image_objects(app_client):
    # Given a business with an avatar and a header
    await create_business(app_client, "bakery")
    avatar = await insert_media(app_client, path="a/avatar.png", media_type="image/png")
    header = await insert_media(app_client, path="a/header.jpg", media_type="image/jpeg")
    await set_profile(app_client, "bakery", avatar_media_id=avatar, header_media_id=header)
    # When its actor is fetched
    actor = (await app_client.get("/users/bakery", headers=AP)).json()
    # Then icon and image are objects, never bare strings
    assert actor["icon"] == {
        "type": "Image",
        "mediaType": "image/png",
        "url": "https://town.example/media/a/avatar.png",
    }
    assert actor["image"] == {
        "type": "Image",
        "mediaType": "image/jpeg",
        "url": "https://town.example/media/a/header.jpg",
    }


async def test_ld_json_with_the_activitystreams_profile_gets_the_actor_too(app_client):
    await create_business(app_client, "bakery")
    response = await app_client.get("/users/bakery", headers=LD)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    assert response.json()["id"] == ACTOR


async def test_the_private_key_never_appears(app_client):
    await _bakery(app_client)
    for headers in (AP, BROWSER):
        response = await app_client.get("/users/bakery", headers=headers)
        assert "PRIVATE" not in response.text


async def test_a_browser_gets_the_profile_page_at_the_actor_url(app_client):
    await create_business(app_client, "bakery")
    response = await app_client.get("/users/bakery", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Accept" in response.headers["vary"]
    assert "Corner Bakery" in response.text


async def test_the_profile_url_serves_the_actor_to_activitypub_clients(app_client):
    # Mastodon refetches from the id when the id differs from the URL it was given.
    await create_business(app_client, "bakery")
    response = await app_client.get("/@bakery", headers=AP)
    assert response.status_code == 200
    assert response.json()["id"] == ACTOR


async def test_deleted_business_answers_410_with_a_tombstone(app_client):
    # Given a deleted business
    await create_business(app_client, "bakery")
    await app_client.delete("/api/v1/businesses/bakery", headers=admin_headers())
    # When its actor is fetched
    response = await app_client.get("/users/bakery", headers=AP)
    # Then it is a Tombstone
    assert response.status_code == 410
    assert response.headers["content-type"] == "application/activity+json"
    tombstone = response.json()
    assert tombstone["id"] == ACTOR
    assert tombstone["type"] == "Tombstone"
    assert tombstone["formerType"] == "Organization"
    assert tombstone["deleted"].endswith("Z")
    # And a browser gets an HTML page saying so
    page = await app_client.get("/users/bakery", headers=BROWSER)
    assert page.status_code == 410
    assert page.headers["content-type"].startswith("text/html")


async def test_a_deleted_business_keeps_its_key_served_while_its_delete_is_delivered(
    app_client,
):
    # Given a business with a follower, deleted: its Delete{actor} waits to be delivered
    await create_business(app_client, "bakery", display_name="Corner Bakery", summary="Bread")
    row_id, _ = await insert_remote_actor(app_client)
    await insert_follow(app_client, "bakery", row_id)
    public_pem = (await business(app_client, "bakery")).public_key_pem
    await app_client.delete("/api/v1/businesses/bakery", headers=admin_headers())
    # When its actor is fetched (a peer verifying the Delete)
    response = await app_client.get("/users/bakery", headers=AP)
    # Then it is a bare, suspended actor still carrying its key, as Mastodon serves one
    assert response.status_code == 200, response.text
    actor = response.json()
    assert (actor["id"], actor["type"], actor["suspended"]) == (ACTOR, "Organization", True)
    assert actor["publicKey"] == {
        "id": f"{ACTOR}#main-key",
        "owner": ACTOR,
        "publicKeyPem": public_pem,
    }
    assert (actor["name"], actor["summary"], actor["attachment"]) == ("bakery", "", [])
    assert (actor["discoverable"], actor["indexable"]) == (False, False)

    # When every delivery of the Delete is over (here given up)
    store = services(app_client).store
    await store.execute("UPDATE deliveries SET state = 'failed' WHERE state = 'pending'")
    # Then the actor answers 410 with its Tombstone: nothing was kept in memory
    gone = await app_client.get("/users/bakery", headers=AP)
    assert gone.status_code == 410
    assert gone.json()["type"] == "Tombstone"


async def test_instance_actor_is_an_application_served_unsigned(app_client):
    response = await app_client.get("/actor", headers=AP)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    actor = response.json()
    services = app_client.services
    assert actor["id"] == "https://town.example/actor"
    assert actor["type"] == "Application"
    assert actor["preferredUsername"] == "instance.actor"
    assert actor["inbox"] == "https://town.example/actor/inbox"
    assert actor["outbox"] == "https://town.example/actor/outbox"
    assert actor["url"] == "https://town.example/"
    assert actor["manuallyApprovesFollowers"] is True
    assert actor["publicKey"] == {
        "id": "https://town.example/actor#main-key",
        "owner": "https://town.example/actor",
        "publicKeyPem": services.started_instance_key().public_pem,
    }
    assert "PRIVATE" not in response.text


async def test_instance_actor_is_served_even_under_authorized_fetch(make_client):
    async with make_client(authorized_fetch=True) as client:
        response = await client.get("/actor", headers=AP)
        assert response.status_code == 200
        outbox = await client.get("/actor/outbox", headers=AP)
        assert outbox.status_code == 200
        assert outbox.json()["totalItems"] == 0
