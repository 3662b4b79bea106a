"""The owner API of posts: the answer to a write, listing page by page, where a post went,
bad input and other owners refused."""

from __future__ import annotations

import pytest

from tests.conftest import create_business
from tests.outbound.conftest import (
    future,
    image_bytes,
    owner,
    table_count,
    upload,
    write_post,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("when", ["now", "scheduled"])
async def test_the_answer_to_a_new_post_is_byte_identical_to_reading_it_back(
    app_client, bakery, when
):
    # Given two images and another business here to mention
    await create_business(app_client, "cafe")
    first = (await upload(app_client, bakery, image_bytes(), description="Rye")).json()
    second = (await upload(app_client, bakery, image_bytes("PNG"))).json()
    schedule = {"scheduled_at": future()} if when == "scheduled" else {}
    # When the owner writes a post using every field (the images in reverse order)
    response = await write_post(
        app_client,
        bakery,
        content="Rye with @cafe today #Bread",
        visibility="unlisted",
        spoiler_text=" Bread talk ",
        sensitive=True,
        language="en",
        media_ids=[second["id"], first["id"]],
        **schedule,
    )
    assert response.status_code == 201, response.text
    # Then the answer, built from what was written, is what the API reads back later, less
    # the mentions left as text (said only in the answer to the write: none here)
    again = await app_client.get(response.headers["location"], headers=owner(bakery))
    assert again.status_code == 200
    written = response.json()
    assert written.pop("unresolved_mentions") == []
    assert written == again.json()
    assert list(written) == list(again.json())
    assert [m["id"] for m in response.json()["media"]] == [second["id"], first["id"]]


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        ({"content": "   \n "}, 422, "/content"),
        ({"content": ""}, 422, "/content"),
        ({"content": "x" * 5001}, 422, "/content"),
        ({"content": "hi", "visibility": "friends"}, 422, "/visibility"),
        ({"content": "hi", "media_ids": ["1", "2", "3", "4", "5"]}, 422, "/media_ids"),
        ({"content": "hi", "media_ids": ["12345"]}, 422, "/media_ids/0"),
        ({"content": "hi", "scheduled_at": "2001-01-01T00:00:00Z"}, 422, "/scheduled_at"),
        ({"content": "hi", "scheduled_at": "tomorrow"}, 422, "/scheduled_at"),
        ({"content": "hi", "in_reply_to": "http://127.0.0.1:9/notes/1"}, 422, "/in_reply_to"),
        ({"content": "hi", "language": "english!"}, 422, "/language"),
        ({"content": "hi", "colour": "red"}, 422, ""),
        ({"content": "just us", "visibility": "direct"}, 422, "/content"),
    ],
)
async def test_bad_input_is_refused_clearly_and_nothing_is_written(
    app_client, bakery, body, status, pointer
):
    response = await write_post(app_client, bakery, **body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["detail"]
    assert any(e["pointer"].startswith(pointer) for e in problem["errors"])
    store = app_client.services.store
    for table in ("posts", "outgoing_activities", "deliveries"):
        assert await table_count(store, table) == 0


async def test_posts_are_listed_newest_first_page_by_page(app_client, bakery):
    ids = [
        (await write_post(app_client, bakery, content=f"post {n}")).json()["id"] for n in range(5)
    ]
    first = await app_client.get("/api/v1/businesses/bakery/posts?limit=2", headers=owner(bakery))
    page = first.json()
    assert [p["id"] for p in page["items"]] == [ids[4], ids[3]]
    second = await app_client.get(page["next"], headers=owner(bakery))
    assert [p["id"] for p in second.json()["items"]] == [ids[2], ids[1]]


async def test_the_owner_sees_where_a_post_went(app_client, bakery):
    store = app_client.services.store
    post = (await write_post(app_client, bakery, content="Reach")).json()
    await store.execute(
        "UPDATE deliveries SET state = 'done', attempts = 1, last_status = 202, done_at = 1 "
        "WHERE inbox = :i",
        {"i": "https://m.example/inbox"},
    )
    await store.execute(
        "UPDATE deliveries SET state = 'failed', attempts = 1, last_status = 403, "
        "last_error = '403' WHERE inbox = :i",
        {"i": "https://solo.example/u/cy/inbox"},
    )
    response = await app_client.get(
        f"/api/v1/businesses/bakery/posts/{post['id']}/deliveries", headers=owner(bakery)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["totals"] == {"delivered": 1, "pending": 0, "failed": 1, "cancelled": 0}
    assert body["items"][0] == {
        "activity": "Create",
        "inbox": "https://m.example/inbox",
        "host": "m.example",
        "state": "delivered",
        "attempts": 1,
        "last_status": 202,
        "last_error": None,
        "next_attempt_at": None,
        "delivered_at": "1970-01-01T00:00:00Z",
    }
    assert body["items"][1]["state"] == "failed" and body["items"][1]["last_status"] == 403


async def test_another_owner_cannot_read_or_change_my_posts(app_client, bakery):
    cafe = await create_business(app_client, "cafe")
    post = (await write_post(app_client, bakery, content="mine")).json()
    for method, path in [
        ("GET", f"/api/v1/businesses/bakery/posts/{post['id']}"),
        ("DELETE", f"/api/v1/businesses/bakery/posts/{post['id']}"),
        ("GET", f"/api/v1/businesses/cafe/posts/{post['id']}"),
    ]:
        response = await app_client.request(method, path, headers=owner(cafe))
        assert response.status_code == 404


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=41", "limit=x", "max_id=-1", "max_id=" + "9" * 20]
)
async def test_a_page_parameter_out_of_range_is_a_bad_request_not_clamped(
    app_client, bakery, query
):
    # Given a business with posts
    await write_post(app_client, bakery, content="post")
    # When its posts are listed with a limit outside 1..40 or a max_id that is no id
    response = await app_client.get(
        f"/api/v1/businesses/bakery/posts?{query}", headers=owner(bakery)
    )
    # Then the answer is 400 naming the parameter
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["detail"]


async def test_a_post_id_past_2_63_is_not_found(app_client, bakery):
    # Given a business
    # When a post is asked for by an id one past the largest
    response = await app_client.get(
        "/api/v1/businesses/bakery/posts/9223372036854775808", headers=owner(bakery)
    )
    # Then there is no such post
    assert response.status_code == 404
