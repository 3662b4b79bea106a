"""The owner's API over what happened around a post: its replies, its likes and boosts
(in-process app, both backends)."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from fedi_town.schemas import openapi_document
from fedi_town.store import emojis as store_emojis
from fedi_town.store.emojis import CachedEmoji, digest_of
from tests.api.helpers import setup_bakery
from tests.inbound import payloads as p
from tests.inbound.helpers import add_post, add_remote_actor, handle

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
BOB = "https://gts.example/users/bob"
HANDLE = "@bakery@town.example"


def schema_errors(component: str, value: object) -> list[str]:
    """How ``value`` breaks the OpenAPI document's ``#/components/schemas/<component>``."""
    doc = openapi_document()
    schema = {"$ref": f"#/components/schemas/{component}", "components": doc["components"]}
    return [e.message for e in Draft202012Validator(schema).iter_errors(value)]


async def a_post_with_replies(app_client, *actors):
    services, business, owner = await setup_bakery(app_client)
    post_id, post_uri = await add_post(services, business)
    biz = services.urls.actor(business.username)
    for actor in actors:
        await add_remote_actor(services.store, actor)
        reply = p.mastodon_create_reply(actor, biz, post_uri, handle=HANDLE)
        await handle(services, reply)
    return services, business, owner, post_id, post_uri


async def test_replies_come_newest_first_with_their_authors_and_match_the_schema(app_client):
    # Given a post that Alice, then Bob replied to
    *_, owner, post_id, _ = await a_post_with_replies(app_client, ALICE, BOB)
    url = f"/api/v1/businesses/bakery/posts/{post_id}/replies"
    # When the owner reads them one at a time
    first = (await app_client.get(f"{url}?limit=1", headers=owner)).json()
    second = (
        await app_client.get(f"{url}?limit=1&max_id={first['next_max_id']}", headers=owner)
    ).json()
    # Then Bob's reply comes first, then Alice's, each with its author and sanitised text
    assert [r["account"]["id"] for r in first["items"] + second["items"]] == [BOB, ALICE]
    reply = second["items"][0]
    assert reply["account"]["handle"] == "@alice@mastodon.example"
    assert "croissant" in reply["content_html"] and "<script" not in reply["content_html"]
    assert reply["url"].startswith("https://mastodon.example/@alice/")
    assert schema_errors("PostReplyPage", first) == []


async def test_likes_and_boosts_are_listed_and_filtered_by_kind(app_client):
    # Given a post Alice liked and Bob boosted
    services, business, owner = await setup_bakery(app_client)
    post_id, post_uri = await add_post(services, business)
    for actor in (ALICE, BOB):
        await add_remote_actor(services.store, actor)
    await handle(services, p.mastodon_like(ALICE, post_uri))
    await handle(services, p.mastodon_announce(BOB, services.urls.actor("bakery"), post_uri))
    url = f"/api/v1/businesses/bakery/posts/{post_id}/interactions"
    # When the owner reads all of them, then only the boosts
    both = (await app_client.get(url, headers=owner)).json()
    boosts = (await app_client.get(f"{url}?kind=announce", headers=owner)).json()
    # Then both are there with who gave them, and the filter keeps Bob's boost alone
    assert sorted((i["kind"], i["account"]["id"]) for i in both["items"]) == [
        ("announce", BOB),
        ("like", ALICE),
    ]
    assert [i["account"]["display_name"] for i in boosts["items"]] == ["Bob"]
    assert both["next_max_id"] is None
    assert schema_errors("PostInteractionPage", both) == []


async def test_an_unknown_kind_or_a_bad_page_is_400(app_client):
    services, business, owner = await setup_bakery(app_client)
    post_id, _ = await add_post(services, business)
    base = f"/api/v1/businesses/bakery/posts/{post_id}"
    for query in ("interactions?kind=poke", "interactions?limit=0", "replies?max_id=x"):
        answer = await app_client.get(f"{base}/{query}", headers=owner)
        assert answer.status_code == 400, query
        assert answer.headers["content-type"] == "application/problem+json"


async def test_another_business_or_a_missing_post_is_404(app_client):
    # Given the bakery's post and the cafe's owner
    services, business, _ = await setup_bakery(app_client)
    post_id, _ = await add_post(services, business)
    _, _, cafe_owner = await setup_bakery(app_client, "cafe", display_name="Cafe")
    # When the cafe asks about the bakery's post, or about posts that do not exist
    paths = [
        f"/api/v1/businesses/bakery/posts/{post_id}/replies",
        f"/api/v1/businesses/cafe/posts/{post_id}/interactions",
        "/api/v1/businesses/cafe/posts/99999999999/replies",
        "/api/v1/businesses/cafe/posts/abc/interactions",
    ]
    # Then each is 404
    for path in paths:
        assert (await app_client.get(path, headers=cafe_owner)).status_code == 404, path


async def test_a_reply_with_a_poll_emoji_and_picture_comes_with_them_and_matches_the_schema(
    app_client,
):
    # Given a reply in Mastodon's Question shape whose emoji icon the cache kept
    services, business, owner = await setup_bakery(app_client)
    post_id, post_uri = await add_post(services, business)
    await add_remote_actor(services.store, ALICE)
    icon = "https://mastodon.example/emoji/baguette.png"
    create = p.mastodon_question(
        ALICE, services.urls.actor("bakery"), handle=HANDLE, emoji_url=icon
    )
    create["object"]["inReplyTo"] = post_uri
    kept = CachedEmoji(digest_of(icon), icon, "ok", "image/png", "emoji/b.png", 16, 16, None)
    await store_emojis.record(services.store, kept, 1)
    await handle(services, create)
    # When the owner reads the replies
    page = (
        await app_client.get(f"/api/v1/businesses/bakery/posts/{post_id}/replies", headers=owner)
    ).json()
    # Then the reply carries its emoji (as the picture here), its poll and its picture link
    (reply,) = page["items"]
    path = f"/proxy/emoji/{digest_of(icon)}"
    assert reply["emojis"] == [{"shortcode": "baguette", "url": path}]
    assert f'src="{path}"' in reply["content_html"]
    assert [o["title"] for o in reply["poll"]["options"]] == ["Sourdough", "Rye", "Brioche"]
    assert reply["attachments"][0]["description"] == "Three loaves on a board"
    assert schema_errors("PostReplyPage", page) == []
