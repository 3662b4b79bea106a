"""The owner's and the admin's API over what came in: notifications, followers, requests,
blocks, domain blocks and reports (in-process app, both backends)."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from fedi_town.schemas import SCHEMA_DIR
from fedi_town.store import businesses
from fedi_town.store import inbox as inbox_store
from fedi_town.store.db import now_ms
from tests.conftest import admin_headers, create_business
from tests.inbound import payloads as p
from tests.inbound.helpers import add_post, add_remote_actor, count, handle, outgoing

pytestmark = pytest.mark.anyio

ALICE = "https://mastodon.example/users/alice"


async def setup_bakery(app_client, username="bakery", **extra):
    data = await create_business(app_client, username, **extra)
    services = app_client.services
    business = await businesses.by_username(services.store, username)
    owner = {"Authorization": f"Bearer {data['owner_token']}"}
    return services, business, owner


async def followers_from(services, business, *actors, state_manual=False):
    biz = services.urls.actor(business.username)
    for i, actor in enumerate(actors):
        await add_remote_actor(services.store, actor)
        await handle(services, p.mastodon_follow(actor, biz) | {"id": f"{actor}#follow/{i}"})


async def test_notifications_page_newest_first_and_match_their_schema(app_client):
    services, business, owner = await setup_bakery(app_client)
    _, post_uri = await add_post(services, business)
    fans = [f"https://m{i}.example/users/fan" for i in range(5)]
    for fan in fans:
        await add_remote_actor(services.store, fan)
        await handle(services, p.mastodon_like(fan, post_uri))
    url = "/api/v1/businesses/bakery/notifications"
    # When the owner reads two at a time
    first = (await app_client.get(f"{url}?limit=2", headers=owner)).json()
    second = await app_client.get(f"{url}?limit=2&max_id={first['next_max_id']}", headers=owner)
    third = await app_client.get(
        f"{url}?limit=2&max_id={second.json()['next_max_id']}", headers=owner
    )
    # Then they come newest first, each once, with who did it and to which post
    seen = [
        n["account"]["id"] for page in (first, second.json(), third.json()) for n in page["items"]
    ]
    assert seen == list(reversed(fans))
    assert third.json()["next_max_id"] is None
    assert first["items"][0]["post"]["uri"] == post_uri
    assert first["items"][0]["account"]["handle"] == "@fan@m4.example"
    schema = json.loads((SCHEMA_DIR / "notification-page.schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(first)) == []


@pytest.mark.parametrize("query", ["limit=0", "limit=81", "limit=x", "max_id=abc", "types=poke"])
async def test_bad_paging_or_type_filters_are_400(app_client, query):
    _, _, owner = await setup_bakery(app_client)
    response = await app_client.get(
        f"/api/v1/businesses/bakery/notifications?{query}", headers=owner
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_another_owner_cannot_read_notifications(app_client):
    await setup_bakery(app_client)
    _, _, cafe_owner = await setup_bakery(app_client, "cafe", display_name="Cafe")
    response = await app_client.get("/api/v1/businesses/bakery/notifications", headers=cafe_owner)
    assert response.status_code == 404


async def test_removing_a_follower_sends_a_reject_of_their_follow(app_client):
    services, business, owner = await setup_bakery(app_client)
    await followers_from(services, business, ALICE)
    listed = (await app_client.get("/api/v1/businesses/bakery/followers", headers=owner)).json()
    [follower] = listed["items"]
    assert follower["account"]["display_name"] == "Alice"
    response = await app_client.delete(
        f"/api/v1/businesses/bakery/followers/{follower['id']}", headers=owner
    )
    assert response.status_code == 204
    assert await count(services.store, "follows") == 0
    [reject] = await outgoing(services.store, "Reject")
    assert reject["body"]["object"]["actor"] == ALICE
    assert reject["inboxes"] == [f"{ALICE}/inbox"]


async def test_deciding_a_request_that_is_not_pending_is_404(app_client):
    services, business, owner = await setup_bakery(app_client)
    await followers_from(services, business, ALICE)  # auto-accepted
    follow_id = await services.store.fetch_val("SELECT id FROM follows")
    base = "/api/v1/businesses/bakery/follow_requests"
    assert (await app_client.post(f"{base}/{follow_id}/accept", headers=owner)).status_code == 404
    assert (await app_client.post(f"{base}/123/reject", headers=owner)).status_code == 404
    assert (await app_client.post(f"{base}/abc/reject", headers=owner)).status_code == 404


async def test_blocking_an_actor_ends_its_follow_and_is_idempotent(app_client):
    services, business, owner = await setup_bakery(app_client)
    await followers_from(services, business, ALICE, "https://gts.example/users/zork")
    url = "/api/v1/businesses/bakery/blocks"
    first = await app_client.post(url, json={"actor": ALICE}, headers=owner)
    again = await app_client.post(url, json={"actor": ALICE}, headers=owner)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert await count(services.store, "follows") == 1
    assert len(await outgoing(services.store, "Reject")) == 1
    listed = (await app_client.get(url, headers=owner)).json()["items"]
    assert [b["actor"] for b in listed] == [ALICE]
    assert (
        await app_client.delete(f"{url}/{first.json()['id']}", headers=owner)
    ).status_code == 204
    assert (
        await app_client.delete(f"{url}/{first.json()['id']}", headers=owner)
    ).status_code == 404


async def test_blocking_a_domain_ends_follows_from_it_and_its_subdomains(app_client):
    services, business, owner = await setup_bakery(app_client)
    await followers_from(
        services,
        business,
        "https://mastodon.example/users/a",
        "https://eu.mastodon.example/users/b",
        "https://gts.example/users/c",
    )
    response = await app_client.post(
        "/api/v1/businesses/bakery/blocks", json={"domain": "Mastodon.Example"}, headers=owner
    )
    assert response.status_code == 201
    assert response.json()["domain"] == "mastodon.example"
    remaining = await services.store.fetch_all(
        "SELECT a.uri FROM follows f JOIN remote_actors a ON a.id = f.actor_id"
    )
    assert [r["uri"] for r in remaining] == ["https://gts.example/users/c"]


async def test_a_known_handle_can_be_blocked_without_a_lookup(app_client):
    services, _, owner = await setup_bakery(app_client)
    await add_remote_actor(services.store, ALICE)
    response = await app_client.post(
        "/api/v1/businesses/bakery/blocks", json={"actor": "@Alice@mastodon.example"}, headers=owner
    )
    assert response.status_code == 201
    assert response.json()["actor"] == ALICE


@pytest.mark.parametrize(
    "body",
    [{}, {"actor": ALICE, "domain": "x.example"}, {"domain": "a b"}, {"actor": "not a handle"}],
    ids=["empty", "both", "bad-domain", "bad-actor"],
)
async def test_a_malformed_block_is_422(app_client, body):
    _, _, owner = await setup_bakery(app_client)
    response = await app_client.post("/api/v1/businesses/bakery/blocks", json=body, headers=owner)
    assert response.status_code == 422


async def test_admin_domain_blocks_cut_follows_everywhere_and_drop_queued_activities(app_client):
    services, business, owner = await setup_bakery(app_client)
    _, cafe, _ = await setup_bakery(app_client, "cafe", display_name="Cafe")
    await followers_from(services, business, ALICE)
    await followers_from(services, cafe, "https://eu.mastodon.example/users/b")
    await inbox_store.add(
        services.store,
        activity_uri=f"{ALICE}#likes/9",
        business_id=None,
        actor_uri=ALICE,
        type="Like",
        body="{}",
        now=now_ms(),
    )
    url = "/api/v1/admin/domain_blocks"
    assert (
        await app_client.post(url, json={"domain": "x.example"}, headers=owner)
    ).status_code == 403
    response = await app_client.post(
        url, json={"domain": "mastodon.example"}, headers=admin_headers()
    )
    assert response.status_code == 201
    assert await count(services.store, "follows") == 0
    assert await count(services.store, "inbox_items", "state = 'cancelled'") == 1
    listed = (await app_client.get(url, headers=admin_headers())).json()["items"]
    assert [b["domain"] for b in listed] == ["mastodon.example"]
    deleted = await app_client.delete(f"{url}/{response.json()['id']}", headers=admin_headers())
    assert deleted.status_code == 204


async def test_reports_are_visible_to_the_business_named_and_to_the_admin(app_client):
    services, business, owner = await setup_bakery(app_client)
    _, _, cafe_owner = await setup_bakery(app_client, "cafe", display_name="Cafe")
    _, post_uri = await add_post(services, business)
    instance = "https://mastodon.example/actor"
    await add_remote_actor(services.store, instance)
    await handle(services, p.mastodon_flag(instance, services.urls.actor("bakery"), post_uri))
    mine = (await app_client.get("/api/v1/businesses/bakery/reports", headers=owner)).json()
    theirs = (await app_client.get("/api/v1/businesses/cafe/reports", headers=cafe_owner)).json()
    admin = (await app_client.get("/api/v1/admin/reports", headers=admin_headers())).json()
    assert [r["content"] for r in mine["items"]] == ["Spam: same advert posted 40 times"]
    assert theirs["items"] == []
    assert admin["items"][0]["business_ids"] == [str(business.id)]
    [notification] = (
        await app_client.get("/api/v1/businesses/bakery/notifications", headers=owner)
    ).json()["items"]
    assert notification["type"] == "report"
    assert notification["report"]["object_uris"][1] == post_uri
    assert (await app_client.get("/api/v1/admin/reports", headers=owner)).status_code == 403
