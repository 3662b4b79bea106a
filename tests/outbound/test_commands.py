"""outbound.commands, through the owner API: each command writes the post and its activity with
one delivery row per inbox, all or nothing (create, edit, delete, schedule, pin)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from fedi_town.outbound import commands
from tests.conftest import create_business
from tests.outbound.conftest import (
    activities,
    add_follower,
    deliveries,
    future,
    image_bytes,
    owner,
    table_count,
    upload,
    write_post,
)

pytestmark = pytest.mark.anyio

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
BASE = "https://town.example"


async def test_a_post_is_stored_and_its_create_goes_to_each_follower_server_once(
    app_client, bakery
):
    # When the owner writes a public post
    response = await write_post(app_client, bakery, content="Fresh **rye** today #Bread")
    # Then it is published at once with its HTML, and the API says so
    assert response.status_code == 201, response.text
    post = response.json()
    assert response.headers["location"] == f"/api/v1/businesses/bakery/posts/{post['id']}"
    assert post["uri"] == f"{BASE}/users/bakery/statuses/{post['id']}"
    assert post["url"] == f"{BASE}/@bakery/{post['id']}"
    assert post["content"] == "Fresh **rye** today #Bread"
    assert post["content_html"].startswith("<p>Fresh <strong>rye</strong> today <a href=")
    assert post["visibility"] == "public" and post["scheduled"] is False
    assert post["published_at"] and post["scheduled_at"] is None and post["edited_at"] is None
    assert (post["replies_count"], post["likes_count"], post["boosts_count"]) == (0, 0, 0)
    assert post["hashtags"] == ["Bread"] and post["media"] == [] and post["pinned"] is False
    # And one Create waits for each follower server: the shared inbox once, the other inbox
    rows = await deliveries(app_client.services.store)
    assert [(r["inbox"], r["type"], r["state"]) for r in rows] == [
        ("https://m.example/inbox", "Create", "pending"),
        ("https://solo.example/u/cy/inbox", "Create", "pending"),
    ]


async def test_an_edit_sends_an_update_with_a_later_updated_to_the_same_audience(
    app_client, bakery
):
    post = (await write_post(app_client, bakery, content="Open at 7", language="en")).json()
    [create] = await activities(app_client.services.store)
    # When the owner edits it
    response = await app_client.patch(
        f"/api/v1/businesses/bakery/posts/{post['id']}",
        json={"content": "Open at 8 #Morning", "spoiler_text": "hours"},
        headers=owner(bakery),
    )
    # Then an Update{Note} with the same id and a later `updated` goes to the same inboxes
    assert response.status_code == 200, response.text
    assert response.json()["edited_at"] is not None
    [update] = await activities(app_client.services.store, "Update")
    note = update["object"]
    assert update["type"] == "Update" and note["id"] == post["uri"]
    assert update["id"].startswith(f"{post['uri']}#updates/")
    assert note["updated"] > create["object"]["published"]
    assert note["published"] == create["object"]["published"]
    assert note["summary"] == "hours" and "Open at 8" in note["content"]
    assert note["contentMap"] == {"en": note["content"]}
    assert [t["name"] for t in note["tag"]] == ["#Morning"]
    rows = await deliveries(app_client.services.store)
    update_inboxes = [r["inbox"] for r in rows if r["type"] == "Update"]
    assert update_inboxes == [r["inbox"] for r in rows if r["type"] == "Create"]


async def test_two_quick_edits_still_carry_strictly_later_updated_times(app_client, bakery):
    post = (await write_post(app_client, bakery, content="v1")).json()
    url = f"/api/v1/businesses/bakery/posts/{post['id']}"
    await app_client.patch(url, json={"content": "v2"}, headers=owner(bakery))
    await app_client.patch(url, json={"content": "v3"}, headers=owner(bakery))
    first, second = await activities(app_client.services.store, "Update")
    assert second["object"]["updated"] > first["object"]["updated"]
    assert first["id"] != second["id"]


async def test_a_delete_sends_a_tombstone_to_every_inbox_that_got_the_create(app_client, bakery):
    store = app_client.services.store
    post = (await write_post(app_client, bakery, content="Sold out")).json()
    # Given the Create reached m.example, and solo.example was never tried yet
    await store.execute(
        "UPDATE deliveries SET state = 'done' WHERE inbox = :i", {"i": "https://m.example/inbox"}
    )
    # When the owner deletes the post
    response = await app_client.delete(
        f"/api/v1/businesses/bakery/posts/{post['id']}", headers=owner(bakery)
    )
    # Then a Delete{Tombstone} goes where the Create arrived; the unsent Create is cancelled
    assert response.status_code == 204
    [delete] = await activities(store, "Delete")
    assert delete == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{post['uri']}#delete",
        "type": "Delete",
        "actor": f"{BASE}/users/bakery",
        "to": [PUBLIC],
        "object": {"id": post["uri"], "type": "Tombstone", "atomUri": post["uri"]},
    }
    assert [(r["inbox"], r["type"], r["state"]) for r in await deliveries(store)] == [
        ("https://m.example/inbox", "Create", "done"),
        ("https://solo.example/u/cy/inbox", "Create", "cancelled"),
        ("https://m.example/inbox", "Delete", "pending"),
    ]
    # And the post is gone from the API
    gone = await app_client.get(
        f"/api/v1/businesses/bakery/posts/{post['id']}", headers=owner(bakery)
    )
    assert gone.status_code == 404
    assert await store.fetch_val("SELECT deleted_at FROM posts") is not None


async def test_media_of_another_business_cannot_be_attached(app_client, bakery):
    cafe = await create_business(app_client, "cafe")
    theirs = (await upload(app_client, cafe, image_bytes())).json()
    response = await write_post(app_client, bakery, content="hi", media_ids=[theirs["id"]])
    assert response.status_code == 422
    assert await table_count(app_client.services.store, "posts") == 0


async def test_a_scheduled_post_waits_is_listed_and_sends_nothing_until_due(app_client, bakery):
    store = app_client.services.store
    response = await write_post(app_client, bakery, content="Tomorrow: cake", scheduled_at=future())
    assert response.status_code == 201, response.text
    post = response.json()
    assert post["scheduled"] is True and post["published_at"] is None
    assert await table_count(store, "outgoing_activities") == 0
    listed = await app_client.get("/api/v1/businesses/bakery/posts", headers=owner(bakery))
    assert [(p["id"], p["scheduled"]) for p in listed.json()["items"]] == [(post["id"], True)]
    # Not due yet: the periodic job publishes nothing
    assert await commands.publish_due(app_client.services) == 0


async def test_a_due_scheduled_post_is_published_exactly_once_by_racing_workers(app_client, bakery):
    store = app_client.services.store
    post = (await write_post(app_client, bakery, content="Cake!", scheduled_at=future())).json()
    # Given its time has come
    await store.execute("UPDATE posts SET scheduled_at = 1")
    # When several workers run the job at the same moment
    won = await asyncio.gather(*(commands.publish_due(app_client.services) for _ in range(4)))
    # Then exactly one Create was written, and the post is published
    assert sum(won) == 1
    [create] = await activities(store, "Create")
    assert create["object"]["id"] == post["uri"]
    again = await app_client.get(
        f"/api/v1/businesses/bakery/posts/{post['id']}", headers=owner(bakery)
    )
    assert again.json()["scheduled"] is False and again.json()["published_at"]


async def test_a_scheduled_post_is_published_when_the_clock_reaches_its_time(clocked_client, clock):
    # Given a business with a follower and a post scheduled an hour from the fixed clock's now
    services = clocked_client.services
    business = await create_business(clocked_client, "bakery")
    await add_follower(services.store, business["id"], "https://solo.example/u/cy")
    at = clock() + timedelta(hours=1)
    response = await write_post(
        clocked_client, business, content="Cake at one", scheduled_at=at.isoformat()
    )
    assert response.status_code == 201, response.text
    post = response.json()
    # When the clock stands a second before that time, then the job publishes nothing
    clock.advance(timedelta(hours=1) - timedelta(seconds=1))
    assert await commands.publish_due(services) == 0
    assert await activities(services.store, "Create") == []
    # When the clock reaches it, then the post is published once, at the clock's time
    clock.advance(timedelta(seconds=1))
    assert await commands.publish_due(services) == 1
    assert await commands.publish_due(services) == 0
    [create] = await activities(services.store, "Create")
    assert create["object"]["id"] == post["uri"]
    url = f"/api/v1/businesses/bakery/posts/{post['id']}"
    again = (await clocked_client.get(url, headers=owner(business))).json()
    assert again["scheduled"] is False
    assert datetime.fromisoformat(again["published_at"]) == at


async def test_a_scheduled_post_can_be_edited_and_cancelled_without_sending_anything(
    app_client, bakery
):
    store = app_client.services.store
    media = (await upload(app_client, bakery, image_bytes())).json()
    post = (
        await write_post(
            app_client, bakery, content="Soon", scheduled_at=future(), media_ids=[media["id"]]
        )
    ).json()
    url = f"/api/v1/businesses/bakery/posts/{post['id']}"
    edited = await app_client.patch(
        url, json={"content": "Sooner", "scheduled_at": future(5)}, headers=owner(bakery)
    )
    assert edited.status_code == 200 and edited.json()["content"] == "Sooner"
    assert edited.json()["edited_at"] is None
    assert (await app_client.delete(url, headers=owner(bakery))).status_code == 204
    assert await table_count(store, "posts") == 0
    assert await table_count(store, "outgoing_activities") == 0
    # The image is free again for another post
    reuse = await write_post(app_client, bakery, content="Now", media_ids=[media["id"]])
    assert reuse.status_code == 201


async def test_pinning_is_for_public_posts_at_most_five_and_followers_hear_of_it(
    app_client, bakery
):
    store = app_client.services.store
    private = (await write_post(app_client, bakery, content="x", visibility="followers")).json()
    refused = await app_client.post(
        f"/api/v1/businesses/bakery/posts/{private['id']}/pin", headers=owner(bakery)
    )
    assert refused.status_code == 422
    posts = [(await write_post(app_client, bakery, content=f"p{n}")).json() for n in range(6)]
    for post in posts[:5]:
        pinned = await app_client.post(
            f"/api/v1/businesses/bakery/posts/{post['id']}/pin", headers=owner(bakery)
        )
        assert pinned.status_code == 200 and pinned.json()["pinned"] is True
    sixth = await app_client.post(
        f"/api/v1/businesses/bakery/posts/{posts[5]['id']}/pin", headers=owner(bakery)
    )
    assert sixth.status_code == 422
    unpinned = await app_client.post(
        f"/api/v1/businesses/bakery/posts/{posts[0]['id']}/unpin", headers=owner(bakery)
    )
    assert unpinned.json()["pinned"] is False
    adds = await activities(store, "Add")
    assert len(adds) == 5
    assert adds[0]["object"] == posts[0]["uri"]
    assert adds[0]["target"] == f"{BASE}/users/bakery/collections/featured"
    [remove] = await activities(store, "Remove")
    assert remove["object"] == posts[0]["uri"]


async def test_deleting_a_post_removes_its_likes_and_boosts_and_their_notifications(
    app_client, bakery
):
    store = app_client.services.store
    post = (await write_post(app_client, bakery, content="Sold out")).json()
    # Given a neighbour liked the post and the owner was told
    actor_id = await store.fetch_val("SELECT id FROM remote_actors ORDER BY id LIMIT 1")
    await store.execute(
        "INSERT INTO interactions (id, kind, activity_uri, actor_id, post_id, created_at) "
        "VALUES (1, 'like', 'https://m.example/likes/1', :a, :p, 0)",
        {"a": actor_id, "p": int(post["id"])},
    )
    await store.execute(
        "INSERT INTO notifications (id, business_id, type, actor_id, post_id, dedupe_key, "
        "created_at) VALUES (1, :b, 'like', :a, :p, 'like-1', 0)",
        {"b": int(bakery["id"]), "a": actor_id, "p": int(post["id"])},
    )
    # When the owner deletes the post
    response = await app_client.delete(
        f"/api/v1/businesses/bakery/posts/{post['id']}", headers=owner(bakery)
    )
    # Then nothing of the like is left behind
    assert response.status_code == 204
    assert await table_count(store, "interactions") == 0
    assert await table_count(store, "notifications") == 0


async def test_six_pins_racing_leave_at_most_five_pinned(app_client, bakery):
    # Given six public posts
    ids = [(await write_post(app_client, bakery, content=f"p{n}")).json()["id"] for n in range(6)]
    # When all six are pinned at once
    answers = await asyncio.gather(
        *(
            app_client.post(f"/api/v1/businesses/bakery/posts/{i}/pin", headers=owner(bakery))
            for i in ids
        )
    )
    # Then exactly five succeed and one is refused
    assert sorted(a.status_code for a in answers) == [200] * 5 + [422]
    store = app_client.services.store
    assert await store.fetch_val("SELECT COUNT(*) FROM posts WHERE pinned_at IS NOT NULL") == 5
