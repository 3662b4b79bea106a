"""POST /posts/preview: the create body checked and composed exactly as a write would (the same
HTML, mentions and reasons), with nothing stored and nothing sent; bad input refused as a write
refuses it; another business's owner gets 404."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from fedi_town.schemas import openapi_document
from fedi_town.store.db import Store
from tests.conftest import create_business
from tests.outbound.conftest import (
    add_follower,
    future,
    image_bytes,
    owner,
    table_count,
    upload,
    write_post,
)

pytestmark = pytest.mark.anyio

WRITES = ("posts", "outgoing_activities", "deliveries", "media_attachments")


async def preview(client: Any, business: dict[str, Any], **body: Any) -> Any:
    return await client.post(
        f"/api/v1/businesses/{business['username']}/posts/preview",
        json=body,
        headers=owner(business),
    )


async def counts(store: Store) -> dict[str, int]:
    """Rows of each table a write adds to, and the media attached to a post."""
    found = {t: await table_count(store, t) for t in WRITES if t != "media_attachments"}
    attached = await store.fetch_val("SELECT COUNT(*) FROM media WHERE post_id IS NOT NULL")
    found["media_attachments"] = int(attached or 0)
    return found


def preview_schema() -> dict[str, Any]:
    path = openapi_document()["paths"]["/api/v1/businesses/{username}/posts/preview"]
    schema: dict[str, Any] = path["post"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    return schema


async def test_a_preview_is_what_the_write_makes_and_stores_and_sends_nothing(live, peer):
    # Given a business followed from a real server, where bob has a note to reply to
    business = await live.create_business("bakery")
    alice = peer.actor("alice").uri
    await add_follower(live.store, business["id"], alice, shared_inbox=f"{peer.base}/inbox")
    note = peer.add_note("bob", "<p>Any rye?</p>")
    media = (await upload(live.client, business, image_bytes(), description="Rye")).json()
    body = {
        "content": f"Yes! Ask {peer.handle('alice')} or @nobody@{peer.host} #Rye",
        "in_reply_to": note["id"],
        "media_ids": [media["id"]],
        "spoiler_text": " bread ",
        "sensitive": True,
    }
    before = await counts(live.store)
    # When the owner previews the post
    response = await preview(live.client, business, **body)
    # Then the answer shows it as Mastodon will, and says which mention stays text and why
    assert response.status_code == 200, response.text
    shown = response.json()
    assert list(Draft202012Validator(preview_schema()).iter_errors(shown)) == []
    assert shown["mentions"] == [
        {"href": peer.actor("bob").uri, "name": peer.handle("bob")},
        {"href": alice, "name": peer.handle("alice")},
    ]
    assert shown["unresolved_mentions"] == [
        {
            "handle": f"@nobody@{peer.host}",
            "code": "not_found",
            "reason": f"no account by that name on {peer.host}",
        }
    ]
    assert shown["hashtags"] == ["Rye"]
    assert (shown["spoiler_text"], shown["sensitive"], shown["visibility"]) == (
        "bread",
        True,
        "public",
    )
    assert (shown["in_reply_to"], shown["scheduled_at"], shown["language"]) == (
        note["id"],
        None,
        None,
    )
    assert (shown["characters"], shown["max_characters"]) == (len(body["content"]), 5000)
    assert [(m["id"], m["post_id"]) for m in shown["media"]] == [(media["id"], None)]
    # And nothing was stored, and nothing reached the follower's server
    assert await counts(live.store) == before
    assert peer.received == []

    # When the same body is then written
    written = await write_post(live.client, business, **body)
    # Then the post is what the preview showed, and only the write is delivered
    assert written.status_code == 201, written.text
    post = written.json()
    for key in ("content_html", "mentions", "unresolved_mentions", "hashtags", "spoiler_text"):
        assert post[key] == shown[key], key
    await peer.wait_for(lambda r: r.type == "Create")
    assert [r.type for r in peer.received] == ["Create"]


async def test_a_preview_of_a_scheduled_post_says_when_and_leaves_its_image_free(
    app_client, bakery
):
    # Given an uploaded image and another business here to mention
    store = app_client.services.store
    await create_business(app_client, "cafe")
    media = (await upload(app_client, bakery, image_bytes())).json()
    at = future()
    # When a scheduled post is previewed
    response = await preview(
        app_client,
        bakery,
        content="  With **@cafe** tomorrow  ",
        visibility="unlisted",
        language="en",
        scheduled_at=at,
        media_ids=[media["id"]],
    )
    # Then the answer names its time, its counted characters and its mention here
    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["scheduled_at"] is not None and shown["scheduled_at"][:16] == at[:16]
    assert shown["characters"] == len("With **@cafe** tomorrow")
    assert shown["mentions"] == [
        {"href": "https://town.example/users/cafe", "name": "@cafe@town.example"}
    ]
    assert shown["unresolved_mentions"] == []
    assert shown["content_html"].startswith('<p>With <strong><span class="h-card">')
    assert (shown["visibility"], shown["language"]) == ("unlisted", "en")
    # And nothing is written: no post, and the image can still be used
    assert await counts(store) == dict.fromkeys(WRITES, 0)
    used = await write_post(app_client, bakery, content="Now", media_ids=[media["id"]])
    assert used.status_code == 201


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"content": 5}, "/content"),
        ({"content": "   "}, "/content"),
        ({"content": "x" * 5001}, "/content"),
        ({"content": "hi", "sensitive": "yes"}, "/sensitive"),
        ({"content": "hi", "visibility": "friends"}, "/visibility"),
        ({"content": "hi", "media_ids": "1"}, "/media_ids"),
        ({"content": "hi", "media_ids": ["12345"]}, "/media_ids/0"),
        ({"content": "hi", "scheduled_at": "2001-01-01T00:00:00Z"}, "/scheduled_at"),
        ({"content": "hi", "colour": "red"}, "/"),
        ({"visibility": "public"}, "/"),
        ({"content": "just us", "visibility": "direct"}, "/content"),
    ],
)
async def test_a_preview_of_bad_input_is_refused_as_a_write_is_with_a_pointer(
    app_client, bakery, body, pointer
):
    response = await preview(app_client, bakery, **body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["detail"]
    assert pointer in [e["pointer"] for e in problem["errors"]]
    assert await counts(app_client.services.store) == dict.fromkeys(WRITES, 0)


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b'{"content": "hi"', "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"", "application/json", 400),
        (b"content=hi", "application/x-www-form-urlencoded", 415),
    ],
)
async def test_a_preview_body_that_is_no_json_object_is_refused(
    app_client, bakery, raw, content_type, status
):
    response = await app_client.post(
        "/api/v1/businesses/bakery/posts/preview",
        content=raw,
        headers={**owner(bakery), "Content-Type": content_type},
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status and response.json()["detail"]


async def test_another_business_owner_cannot_preview_as_mine(app_client, bakery):
    # Given another business's owner
    cafe = await create_business(app_client, "cafe")
    # When they preview a post as the bakery, or with no token at all
    theirs = await app_client.post(
        "/api/v1/businesses/bakery/posts/preview", json={"content": "hi"}, headers=owner(cafe)
    )
    anonymous = await app_client.post(
        "/api/v1/businesses/bakery/posts/preview", json={"content": "hi"}
    )
    # Then the bakery is not found for them, and nobody is let in without a token
    assert theirs.status_code == 404
    assert anonymous.status_code == 401
