"""Collections: outbox, followers, following, featured, featured tags; totals and paging."""

from __future__ import annotations

import pytest

from tests.conftest import admin_headers, create_business
from tests.read.helpers import AP, insert_follow, insert_post, insert_remote_actor

pytestmark = pytest.mark.anyio

ACTOR = "https://town.example/users/bakery"


async def test_outbox_of_25_posts_has_two_pages_newest_first(app_client):
    # Given 25 public posts, and some that must not be listed
    await create_business(app_client, "bakery")
    ids = [await insert_post(app_client, content_html=f"<p>{n}</p>") for n in range(25)]
    await insert_post(app_client, visibility="followers")
    await insert_post(app_client, visibility="direct")
    await insert_post(app_client, published_at=None)
    await insert_post(app_client, deleted_at=1)
    # When the outbox is read
    response = await app_client.get("/users/bakery/outbox", headers=AP)
    # Then it counts 25 and points at its first page
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    outbox = response.json()
    assert outbox["id"] == f"{ACTOR}/outbox"
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 25
    assert outbox["first"] == f"{ACTOR}/outbox?page=1"
    # And page 1 holds the 20 newest Creates, with a next page
    first = (await app_client.get(outbox["first"], headers=AP)).json()
    assert first["id"] == f"{ACTOR}/outbox?page=1"
    assert first["type"] == "OrderedCollectionPage"
    assert first["partOf"] == f"{ACTOR}/outbox"
    assert "prev" not in first
    assert len(first["orderedItems"]) == 20
    newest = first["orderedItems"][0]
    assert newest["type"] == "Create"
    assert newest["id"] == f"{ACTOR}/statuses/{ids[-1]}/activity"
    assert newest["actor"] == ACTOR
    assert newest["object"]["id"] == f"{ACTOR}/statuses/{ids[-1]}"
    assert newest["object"]["type"] == "Note"
    assert "@context" not in newest
    # And the next page holds the 5 oldest, and no further page
    second_response = await app_client.get(first["next"], headers=AP)
    second = second_response.json()
    assert second["id"] == first["next"] == str(second_response.url)
    assert second["prev"] == f"{ACTOR}/outbox?page=1"
    assert "next" not in second
    assert [c["object"]["id"] for c in second["orderedItems"]] == [
        f"{ACTOR}/statuses/{i}" for i in reversed(ids[:5])
    ]


async def test_unlisted_posts_are_in_the_outbox(app_client):
    await create_business(app_client, "bakery")
    await insert_post(app_client, visibility="unlisted")
    outbox = (await app_client.get("/users/bakery/outbox", headers=AP)).json()
    assert outbox["totalItems"] == 1


async def test_followers_lists_accepted_followers_only(app_client):
    # Given two accepted followers and one pending request
    await create_business(app_client, "bakery")
    alice, alice_uri = await insert_remote_actor(app_client, "alice")
    bob, bob_uri = await insert_remote_actor(app_client, "bob", "social.example")
    carol, _ = await insert_remote_actor(app_client, "carol")
    await insert_follow(app_client, "bakery", alice)
    await insert_follow(app_client, "bakery", bob)
    await insert_follow(app_client, "bakery", carol, state="pending")
    # When the followers collection is read
    followers = (await app_client.get("/users/bakery/followers", headers=AP)).json()
    # Then it counts the accepted ones and lists their actor ids, newest first
    assert followers["id"] == f"{ACTOR}/followers"
    assert followers["type"] == "OrderedCollection"
    assert followers["totalItems"] == 2
    page = (await app_client.get(followers["first"], headers=AP)).json()
    assert page["orderedItems"] == [bob_uri, alice_uri]


async def test_following_is_empty_but_has_a_first_page(app_client):
    # Without "first", Mastodon marks the list hidden.
    await create_business(app_client, "bakery")
    following = (await app_client.get("/users/bakery/following", headers=AP)).json()
    assert following == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{ACTOR}/following",
        "type": "OrderedCollection",
        "totalItems": 0,
        "first": f"{ACTOR}/following?page=1",
    }
    page = (await app_client.get(following["first"], headers=AP)).json()
    assert page["type"] == "OrderedCollectionPage"
    assert page["orderedItems"] == []


async def test_featured_embeds_pinned_notes_newest_pin_first(app_client):
    # Given two pinned posts (the older post pinned later) and an unpinned one
    await create_business(app_client, "bakery")
    older = await insert_post(app_client, pinned_at=2_000)
    newer = await insert_post(app_client, pinned_at=1_000)
    await insert_post(app_client)
    hidden = await insert_post(app_client, visibility="followers", pinned_at=3_000)
    # When the featured collection is read
    featured = (await app_client.get("/users/bakery/collections/featured", headers=AP)).json()
    # Then the pinned public Notes are inline, most recently pinned first
    assert featured["id"] == f"{ACTOR}/collections/featured"
    assert featured["type"] == "OrderedCollection"
    assert featured["totalItems"] == 2
    notes = featured["orderedItems"]
    assert [n["id"] for n in notes] == [f"{ACTOR}/statuses/{older}", f"{ACTOR}/statuses/{newer}"]
    assert all(n["type"] == "Note" for n in notes)
    assert f"{ACTOR}/statuses/{hidden}" not in str(featured)


async def test_featured_tags_is_an_empty_collection_with_items(app_client):
    await create_business(app_client, "bakery")
    tags = (await app_client.get("/users/bakery/collections/tags", headers=AP)).json()
    assert tags["type"] == "Collection"
    assert tags["id"] == f"{ACTOR}/collections/tags"
    assert tags["items"] == []
    assert tags["totalItems"] == 0


async def test_featured_tags_are_hashtags_shaped_as_mastodon_serves_them(app_client):
    # Given an owner featuring two hashtags, one typed with its "#"
    await create_business(app_client, "bakery")
    response = await app_client.patch(
        "/api/v1/businesses/bakery",
        json={"featured_tags": ["#Sourdough", "Croissants"]},
        headers=admin_headers(),
    )
    assert response.status_code == 200, response.text
    # When the featured tags collection is fetched
    tags = (await app_client.get("/users/bakery/collections/tags", headers=AP)).json()
    # Then each is a Hashtag named with "#", linking the business's posts with that tag
    assert tags["@context"] == ["https://www.w3.org/ns/activitystreams", {"Hashtag": "as:Hashtag"}]
    assert (tags["type"], tags["totalItems"]) == ("Collection", 2)
    assert tags["items"] == [
        {
            "type": "Hashtag",
            "href": "https://town.example/@bakery/tagged/sourdough",
            "name": "#Sourdough",
        },
        {
            "type": "Hashtag",
            "href": "https://town.example/@bakery/tagged/croissants",
            "name": "#Croissants",
        },
    ]
    # And the actor points at the collection
    actor = (await app_client.get("/users/bakery", headers=AP)).json()
    assert actor["featuredTags"] == f"{ACTOR}/collections/tags"


async def test_collections_of_an_unknown_business_are_404(app_client):
    for path in ("outbox", "followers", "following", "collections/featured"):
        response = await app_client.get(f"/users/nobody/{path}", headers=AP)
        assert response.status_code == 404
