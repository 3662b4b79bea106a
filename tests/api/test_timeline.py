"""GET /api/v1/businesses/{username}/timeline: the home timeline as the owner reads it
(in-process app, both backends): paging both ways, the schema, blocks hiding entries,
refusals."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from fedi_town.schemas import SCHEMA_DIR
from fedi_town.store import given
from fedi_town.store.db import new_id
from tests.api.helpers import setup_bakery
from tests.conftest import admin_headers
from tests.inbound.handlers.timeline_kit import announce, create, followed, note
from tests.inbound.helpers import add_post, add_remote_actor, handle
from tests.live import wait_until

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"
BOB = "https://mastodon.example/users/bob"
URL = "/api/v1/businesses/bakery/timeline"


async def test_the_timeline_pages_newest_first_and_matches_its_schema(app_client):
    # Given the bakery follows Alice, who posted three times and boosted Bob once
    services, business, owner = await setup_bakery(app_client)
    await followed(services, business, ALICE)
    await add_remote_actor(services.store, BOB)
    posts = [note(ALICE, f"<p>Post {n}</p>") for n in range(3)]
    for post in posts:
        await handle(services, create(post))
    boosted = note(
        BOB,
        "<p>Bob's rye</p>",
        attachment=[
            {
                "type": "Document",
                "mediaType": "image/png",
                "url": "https://mastodon.example/r.png",
                "name": "A rye loaf",
            }
        ],
    )
    await handle(services, announce(ALICE, boosted))
    # And the bakery answered the first post
    await add_post(services, business, "Thanks!", in_reply_to_uri=posts[0]["id"])

    # When the owner reads two at a time
    first = (await app_client.get(f"{URL}?limit=2", headers=owner)).json()
    second = (
        await app_client.get(f"{URL}?limit=2&max_id={first['next_max_id']}", headers=owner)
    ).json()

    # Then the boost comes first, with who boosted it, then the posts newest first
    [boost, latest] = first["items"]
    assert boost["uri"] == boosted["id"]
    assert boost["account"]["id"] == BOB
    assert boost["boosted_by"]["id"] == ALICE
    assert boost["attachments"] == [
        {
            "url": "https://mastodon.example/r.png",
            "type": "image",
            "media_type": "image/png",
            "description": "A rye loaf",
        }
    ]
    assert latest["uri"] == posts[2]["id"] and latest["boosted_by"] is None
    assert [i["uri"] for i in second["items"]] == [posts[1]["id"], posts[0]["id"]]
    assert [i["replied"] for i in second["items"]] == [False, True]
    assert all(not i["liked"] and not i["boosted"] for i in first["items"] + second["items"])
    # And newer than the second page is the first
    newer = (
        await app_client.get(f"{URL}?limit=5&min_id={second['prev_min_id']}", headers=owner)
    ).json()
    assert [i["id"] for i in newer["items"]] == [i["id"] for i in first["items"]]
    schema = json.loads((SCHEMA_DIR / "timeline-page.schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(first)) == []
    assert list(Draft202012Validator(schema).iter_errors(second)) == []


async def test_a_blocked_author_vanishes_from_the_timeline(app_client):
    # Given Alice boosted Bob, and the bakery then blocks Bob's account
    services, business, owner = await setup_bakery(app_client)
    await followed(services, business, ALICE)
    await add_remote_actor(services.store, BOB)
    await handle(services, create(note(ALICE)))
    await handle(services, announce(ALICE, note(BOB)))
    response = await app_client.post(
        "/api/v1/businesses/bakery/blocks", json={"actor": BOB}, headers=owner
    )
    assert response.status_code == 201, response.text

    # When the owner reads the timeline
    page = (await app_client.get(URL, headers=owner)).json()

    # Then only Alice's own post is left
    assert [i["account"]["id"] for i in page["items"]] == [ALICE]


async def test_blocking_a_followed_account_takes_its_posts_away(app_client):
    services, business, owner = await setup_bakery(app_client)
    await followed(services, business, ALICE)
    await handle(services, create(note(ALICE)))
    response = await app_client.post(
        "/api/v1/businesses/bakery/blocks", json={"domain": "mastodon.example"}, headers=owner
    )
    assert response.status_code == 201, response.text
    assert (await app_client.get(URL, headers=owner)).json()["items"] == []


async def test_an_admin_domain_block_empties_the_timelines_of_that_domain(app_client):
    # Given the bakery follows Alice, who posted and boosted a note of her own
    services, business, owner = await setup_bakery(app_client)
    await followed(services, business, ALICE)
    await handle(services, create(note(ALICE)))
    await handle(services, announce(ALICE, note(ALICE)))
    assert len((await app_client.get(URL, headers=owner)).json()["items"]) == 2

    # When the admin blocks Alice's server
    response = await app_client.post(
        "/api/v1/admin/domain_blocks", json={"domain": "mastodon.example"}, headers=admin_headers()
    )
    assert response.status_code in (200, 201), response.text

    # Then nothing of it is left in the timeline, nor stored for it
    assert (await app_client.get(URL, headers=owner)).json()["items"] == []
    assert await services.store.fetch_val("SELECT COUNT(*) FROM timeline") == 0


@pytest.mark.parametrize("query", ["limit=0", "limit=81", "max_id=abc", "min_id=-1"])
async def test_bad_paging_is_400(app_client, query):
    _, _, owner = await setup_bakery(app_client)
    response = await app_client.get(f"{URL}?{query}", headers=owner)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_another_owner_cannot_read_the_timeline(app_client):
    await setup_bakery(app_client)
    _, _, cafe_owner = await setup_bakery(app_client, "cafe", display_name="Cafe")
    assert (await app_client.get(URL, headers=cafe_owner)).status_code == 404
    assert (await app_client.get(URL)).status_code == 401


async def test_a_business_here_that_is_followed_reaches_the_timeline_without_http(live):
    # Given the bakery follows the cafe on the same instance, and the cafe accepted
    bakery = {"Authorization": f"Bearer {(await live.create_business('bakery'))['owner_token']}"}
    cafe = {"Authorization": f"Bearer {(await live.create_business('cafe'))['owner_token']}"}
    followed = await live.client.post(
        "/api/v1/businesses/bakery/following", json={"account": "@cafe"}, headers=bakery
    )
    assert followed.status_code == 201, followed.text

    async def accepted() -> bool:
        page = await live.client.get("/api/v1/businesses/bakery/following", headers=bakery)
        return [f["state"] for f in page.json()["items"]] == ["accepted"]

    await wait_until(accepted)

    # When the cafe posts
    posted = await live.client.post(
        "/api/v1/businesses/cafe/posts", json={"content": "Soup of the day: leek"}, headers=cafe
    )
    assert posted.status_code == 201, posted.text

    # Then the post is in the bakery's timeline, by the cafe
    async def shown() -> list:
        return (await live.client.get(URL, headers=bakery)).json()["items"]

    [item] = await wait_until(shown)
    assert "Soup of the day: leek" in item["content"]
    assert item["account"]["id"] == live.urls.actor("cafe")
    assert item["uri"] == posted.json()["uri"]


async def test_the_timeline_marks_what_the_business_liked_and_boosted(app_client):
    # Given the bakery follows Alice, who posted twice, and liked one and boosted the other
    services, business, owner = await setup_bakery(app_client)
    await followed(services, business, ALICE)
    posts = [note(ALICE, f"<p>Post {n}</p>") for n in range(2)]
    for post in posts:
        await handle(services, create(post))
    for n, (post, kind) in enumerate(zip(posts, (given.LIKE, given.ANNOUNCE), strict=True)):
        await given.insert(
            services.store,
            row_id=new_id(),
            business_id=business.id,
            object_uri=post["id"],
            kind=kind,
            activity_uri=f"https://town.example/given/{n}",
            author_uri=ALICE,
            now=services.now_ms(),
        )
    # When the owner reads the timeline
    items = (await app_client.get(URL, headers=owner)).json()["items"]
    # Then each post says what the business gave it
    marks = {i["uri"]: (i["liked"], i["boosted"]) for i in items}
    assert marks == {posts[0]["id"]: (True, False), posts[1]["id"]: (False, True)}
