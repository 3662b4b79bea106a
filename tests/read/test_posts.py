"""Note URLs: the Note, who may see it, tombstones, its Create and its collections."""

from __future__ import annotations

import pytest

from fedi_town.errors import Unauthorized
from fedi_town.read import negotiate
from tests.conftest import create_business
from tests.read.helpers import (
    AP,
    BROWSER,
    insert_follow,
    insert_interaction,
    insert_media,
    insert_post,
    insert_remote_actor,
    insert_reply,
)

pytestmark = pytest.mark.anyio

ACTOR = "https://town.example/users/bakery"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ALICE = "https://mastodon.example/users/alice"


async def test_a_public_note_has_every_field_mastodon_reads(app_client):
    # Given a public post with a CW, a mention, a hashtag, an image, a like and a boost
    await create_business(app_client, "bakery")
    alice, _ = await insert_remote_actor(app_client, "alice")
    post_id = await insert_post(
        app_client,
        content_html="<p>Hello <a href='x'>@alice</a> #Bread</p>",
        spoiler_text="food",
        language="en",
        mentions=[{"href": ALICE, "name": "@alice@mastodon.example"}],
        hashtags=["Bread"],
        in_reply_to_uri="https://mastodon.example/users/alice/statuses/1",
    )
    await insert_media(
        app_client,
        path="p/loaf.jpg",
        media_type="image/jpeg",
        post_id=post_id,
        description="A loaf",
        width=640,
        height=480,
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
    )
    await insert_interaction(app_client, post_id, alice, "like")
    await insert_interaction(app_client, post_id, alice, "announce")
    # When its id is fetched
    url = f"{ACTOR}/statuses/{post_id}"
    response = await app_client.get(url, headers=AP)
    # Then the Note says all of it
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    note = response.json()
    assert note["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert note["id"] == url == str(response.url)
    assert note["type"] == "Note"
    assert note["attributedTo"] == ACTOR
    assert note["content"] == "<p>Hello <a href='x'>@alice</a> #Bread</p>"
    assert note["contentMap"] == {"en": note["content"]}
    assert note["summary"] == "food"
    assert note["sensitive"] is True
    assert note["published"].endswith("Z")
    assert "updated" not in note
    assert note["url"] == f"https://town.example/@bakery/{post_id}"
    assert note["to"] == [PUBLIC]
    assert note["cc"] == [f"{ACTOR}/followers", ALICE]
    assert note["inReplyTo"] == "https://mastodon.example/users/alice/statuses/1"
    assert note["tag"] == [
        {"type": "Mention", "href": ALICE, "name": "@alice@mastodon.example"},
        {"type": "Hashtag", "href": "https://town.example/@bakery/tagged/bread", "name": "#Bread"},
    ]
    assert note["attachment"] == [
        {
            "type": "Image",
            "mediaType": "image/jpeg",
            "url": "https://town.example/media/p/loaf.jpg",
            "name": "A loaf",
            "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            "width": 640,
            "height": 480,
        }
    ]
    assert note["likes"] == {"id": f"{url}/likes", "type": "Collection", "totalItems": 1}
    assert note["shares"] == {"id": f"{url}/shares", "type": "Collection", "totalItems": 1}
    assert note["replies"]["id"] == f"{url}/replies"
    assert note["interactionPolicy"] == {"canQuote": {"automaticApproval": [PUBLIC]}}


async def test_an_edited_note_says_when(app_client):
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client, edited_at=1_800_000_000_000, language=None)
    note = (await app_client.get(f"{ACTOR}/statuses/{post_id}", headers=AP)).json()
    assert note["updated"] == "2027-01-15T08:00:00Z"
    assert "contentMap" not in note
    assert note["summary"] is None
    assert note["sensitive"] is False


async def test_an_unlisted_note_is_served_and_addressed_quietly(app_client):
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client, visibility="unlisted")
    note = (await app_client.get(f"{ACTOR}/statuses/{post_id}", headers=AP)).json()
    assert note["to"] == [f"{ACTOR}/followers"]
    assert note["cc"] == [PUBLIC]
    assert note["interactionPolicy"] == {"canQuote": {"automaticApproval": [PUBLIC]}}


@pytest.mark.parametrize("visibility", ["followers", "direct"])
async def test_a_non_public_note_is_not_served_to_anonymous_fetchers(app_client, visibility):
    # Given a followers-only (or direct) post
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client, visibility=visibility)
    # When it is fetched without a signature
    response = await app_client.get(f"{ACTOR}/statuses/{post_id}", headers=AP)
    # Then it does not exist, as far as the fetcher can tell
    assert response.status_code == 404
    for suffix in ("/activity", "/replies", "/likes", "/shares"):
        nested = await app_client.get(f"{ACTOR}/statuses/{post_id}{suffix}", headers=AP)
        assert nested.status_code == 404
    page = await app_client.get(f"/@bakery/{post_id}", headers=BROWSER)
    assert page.status_code == 404


async def test_a_follower_verified_by_the_fetch_guard_sees_a_followers_only_note(
    app_client, monkeypatch
):
    # Given a followers-only post, alice following, and a guard that verified alice
    await create_business(app_client, "bakery")
    alice, _ = await insert_remote_actor(app_client, "alice")
    await insert_follow(app_client, "bakery", alice)
    post_id = await insert_post(app_client, visibility="followers")

    async def guard(request, svc):
        return ALICE

    monkeypatch.setattr(negotiate, "fetch_guard", guard)
    # When alice fetches it
    response = await app_client.get(f"{ACTOR}/statuses/{post_id}", headers=AP)
    # Then she gets it, addressed to the followers, and no shared cache may keep it
    assert response.status_code == 200
    note = response.json()
    assert note["to"] == [f"{ACTOR}/followers"]
    assert PUBLIC not in note["cc"]
    assert "private" in response.headers["cache-control"]


async def test_a_guard_that_refuses_stops_the_document(app_client, monkeypatch):
    await create_business(app_client, "bakery")

    async def guard(request, svc):
        raise Unauthorized("bad signature")

    monkeypatch.setattr(negotiate, "fetch_guard", guard)
    response = await app_client.get("/users/bakery", headers=AP)
    assert response.status_code == 401
    # The instance actor is never guarded, and browsers get the page
    assert (await app_client.get("/actor", headers=AP)).status_code == 200
    assert (await app_client.get("/users/bakery", headers=BROWSER)).status_code == 200


async def test_authorized_fetch_refuses_unsigned_fetches(make_client):
    async with make_client(authorized_fetch=True) as client:
        await create_business(client, "bakery")
        response = await client.get("/users/bakery", headers=AP)
        assert response.status_code == 401


async def test_a_deleted_note_is_410_with_a_tombstone(app_client):
    # Given a deleted post
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client, deleted_at=1_795_132_800_000)
    # When it is fetched
    url = f"{ACTOR}/statuses/{post_id}"
    response = await app_client.get(url, headers=AP)
    # Then it is gone, and says so in a Tombstone
    assert response.status_code == 410
    assert response.headers["content-type"] == "application/activity+json"
    assert response.json() == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": url,
        "type": "Tombstone",
        "formerType": "Note",
        "deleted": "2026-11-20T00:00:00Z",
    }
    page = await app_client.get(f"/@bakery/{post_id}", headers=BROWSER)
    assert page.status_code == 410
    assert page.headers["content-type"].startswith("text/html")


async def test_a_scheduled_note_is_404(app_client):
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client, published_at=None)
    response = await app_client.get(f"{ACTOR}/statuses/{post_id}", headers=AP)
    assert response.status_code == 404


async def test_a_post_of_another_business_is_404_under_this_one(app_client):
    await create_business(app_client, "bakery")
    await create_business(app_client, "cafe", display_name="Cafe")
    post_id = await insert_post(app_client, "cafe")
    response = await app_client.get(f"{ACTOR}/statuses/{post_id}", headers=AP)
    assert response.status_code == 404


async def test_the_activity_url_serves_the_create(app_client):
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client)
    url = f"{ACTOR}/statuses/{post_id}/activity"
    create = (await app_client.get(url, headers=AP)).json()
    assert create["id"] == url
    assert create["type"] == "Create"
    assert create["actor"] == ACTOR
    assert create["to"] == [PUBLIC]
    assert create["object"]["id"] == f"{ACTOR}/statuses/{post_id}"


async def test_replies_collection_lists_public_replies(app_client):
    # Given a post with two public replies, a followers-only one, and one from a gone actor
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client)
    note_uri = f"{ACTOR}/statuses/{post_id}"
    alice, _ = await insert_remote_actor(app_client, "alice")
    gone, _ = await insert_remote_actor(app_client, "gone", gone=True)
    first = await insert_reply(app_client, alice, note_uri)
    second = await insert_reply(app_client, alice, note_uri)
    await insert_reply(app_client, alice, note_uri, visibility="followers")
    await insert_reply(app_client, gone, note_uri)
    # When its replies collection is read
    replies = (await app_client.get(f"{note_uri}/replies", headers=AP)).json()
    # Then it counts and lists the two public ones, oldest first
    assert replies["id"] == f"{note_uri}/replies"
    assert replies["type"] == "OrderedCollection"
    assert replies["totalItems"] == 2
    page = (await app_client.get(replies["first"], headers=AP)).json()
    assert page["orderedItems"] == [first, second]
    # And the Note's replies count agrees
    note = (await app_client.get(note_uri, headers=AP)).json()
    assert note["replies"]["totalItems"] == 2


async def test_likes_and_shares_collections_count(app_client):
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client)
    alice, _ = await insert_remote_actor(app_client, "alice")
    bob, _ = await insert_remote_actor(app_client, "bob")
    await insert_interaction(app_client, post_id, alice, "like")
    await insert_interaction(app_client, post_id, bob, "like")
    await insert_interaction(app_client, post_id, bob, "announce")
    url = f"{ACTOR}/statuses/{post_id}"
    likes = (await app_client.get(f"{url}/likes", headers=AP)).json()
    shares = (await app_client.get(f"{url}/shares", headers=AP)).json()
    assert likes == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{url}/likes",
        "type": "Collection",
        "totalItems": 2,
    }
    assert shares["id"] == f"{url}/shares"
    assert shares["totalItems"] == 1


async def test_a_browser_gets_the_post_page_at_the_note_url(app_client):
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client, content_html="<p>Croissants are back</p>")
    response = await app_client.get(f"{ACTOR}/statuses/{post_id}", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Croissants are back" in response.text


async def test_the_post_page_url_serves_the_note_to_activitypub_clients(app_client):
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client)
    response = await app_client.get(f"/@bakery/{post_id}", headers=AP)
    assert response.status_code == 200
    assert response.json()["id"] == f"{ACTOR}/statuses/{post_id}"


@pytest.mark.parametrize(
    "path",
    [
        "/@bakery/99999999999999999999999",
        "/users/bakery/statuses/9223372036854775808",
        "/users/bakery/statuses/" + "9" * 5000,
        "/users/bakery/statuses/0",
    ],
)
async def test_a_note_id_out_of_range_is_not_found(app_client, path):
    # Given a business
    await create_business(app_client, "bakery")
    # When a note is fetched by an id that no note can have
    response = await app_client.get(path, headers=AP)
    # Then there is no such note
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/users/bakery/statuses/abc",
        "/users/bakery/statuses/12a/activity",
        "/users/bakery/statuses/%D9%A1",  # an Arabic-Indic digit: not an ASCII digit
        "/@bakery/12x",
    ],
)
async def test_a_note_url_whose_id_is_not_ascii_digits_is_no_route_at_all(app_client, path):
    # Given a business
    await create_business(app_client, "bakery")
    # When a note URL with something else than digits is fetched, or posted to
    fetched = await app_client.get(path, headers=AP)
    posted = await app_client.post(path, headers=AP)
    # Then it is an unknown path (404), not a known one refusing the method (405)
    assert (fetched.status_code, posted.status_code) == (404, 404)
    assert fetched.json()["detail"] == "Not Found"


async def test_a_note_url_with_digits_refuses_other_methods(app_client):
    # Given a business
    await create_business(app_client, "bakery")
    # When something is posted to a note URL
    response = await app_client.post("/users/bakery/statuses/12", headers=AP)
    # Then the path is known and the method is not
    assert response.status_code == 405
