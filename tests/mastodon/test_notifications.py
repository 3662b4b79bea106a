"""The business's notifications in Mastodon's shape, with Mastodon's paging."""

from __future__ import annotations

import re

import pytest
from mastodon import return_types

from fedi_town.store import notifications
from fedi_town.store.db import now_ms
from tests.mastodon.flow import bearer, business_with_token, entity_gaps
from tests.outbound.conftest import add_follower

pytestmark = pytest.mark.anyio


async def five_follows(app_client) -> tuple[str, list[int]]:
    """An app token of the bakery, and five follow notifications (oldest first)."""
    _owner, token = await business_with_token(app_client)
    store = app_client.services.store
    me = await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    business_id = int(me.json()["id"])
    ids = []
    for n in range(5):
        actor_id = await add_follower(store, business_id, f"https://m.example/users/u{n}")
        await notifications.notify(
            store,
            business_id=business_id,
            type="follow",
            dedupe_key=f"follow:test{n}",
            actor_id=actor_id,
            now=now_ms() + n,
        )
    rows = await notifications.page(store, business_id, limit=10)
    ids = sorted(int(r["id"]) for r in rows)
    return token, ids


def links(response) -> dict[str, str]:
    return {
        rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers["link"])
    }


async def test_pages_go_back_by_max_id_and_forward_by_min_id(app_client):
    token, ids = await five_follows(app_client)
    first = await app_client.get("/api/v1/notifications?limit=2", headers=bearer(token))
    assert [n["id"] for n in first.json()] == [str(ids[4]), str(ids[3])]
    assert all(
        n["type"] == "follow" and n["account"]["acct"].endswith("@m.example") for n in first.json()
    )
    older = await app_client.get(links(first)["next"], headers=bearer(token))
    assert [n["id"] for n in older.json()] == [str(ids[2]), str(ids[1])]
    newer = await app_client.get(links(older)["prev"], headers=bearer(token))
    assert [n["id"] for n in newer.json()] == [str(ids[4]), str(ids[3])]
    after_first = await app_client.get(
        f"/api/v1/notifications?min_id={ids[0]}&limit=2", headers=bearer(token)
    )
    assert [n["id"] for n in after_first.json()] == [str(ids[2]), str(ids[1])]
    since = await app_client.get(
        f"/api/v1/notifications?since_id={ids[0]}&limit=2", headers=bearer(token)
    )
    assert [n["id"] for n in since.json()] == [str(ids[4]), str(ids[3])]


async def test_types_and_exclude_types_filter(app_client):
    token, ids = await five_follows(app_client)
    mentions = await app_client.get("/api/v1/notifications?types[]=mention", headers=bearer(token))
    assert mentions.json() == []
    no_follows = await app_client.get(
        "/api/v1/notifications?exclude_types[]=follow", headers=bearer(token)
    )
    assert no_follows.json() == []
    one = await app_client.get(f"/api/v1/notifications/{ids[2]}", headers=bearer(token))
    assert one.json()["id"] == str(ids[2])
    missing = await app_client.get("/api/v1/notifications/1", headers=bearer(token))
    assert missing.status_code == 404


async def test_notifications_need_read_notifications(app_client):
    _owner, token = await business_with_token(app_client, scopes="read:statuses")
    response = await app_client.get("/api/v1/notifications", headers=bearer(token))
    assert response.status_code == 403


async def test_grouped_notifications_give_one_group_each_with_its_account(app_client):
    token, ids = await five_follows(app_client)
    response = await app_client.get("/api/v2/notifications?limit=2", headers=bearer(token))
    body = response.json()
    groups = body["notification_groups"]
    assert [g["most_recent_notification_id"] for g in groups] == [str(ids[4]), str(ids[3])]
    assert all(g["type"] == "follow" and g["notifications_count"] == 1 for g in groups)
    accounts = {a["id"] for a in body["accounts"]}
    assert {g["sample_account_ids"][0] for g in groups} <= accounts
    assert body["statuses"] == []
    assert "/api/v2/notifications?max_id=" in links(response)["next"]
    # And every field Mastodon.py declares is there
    assert entity_gaps(return_types.GroupedNotificationsResults, body) == []
    assert entity_gaps(return_types.NotificationGroup, groups[0]) == []


async def test_a_dismissed_notification_leaves_the_app_but_stays_in_the_owner_app(app_client):
    token, ids = await five_follows(app_client)
    dismissed = await app_client.post(
        f"/api/v1/notifications/{ids[4]}/dismiss", headers=bearer(token)
    )
    assert dismissed.status_code == 200 and dismissed.json() == {}
    listed = await app_client.get("/api/v1/notifications", headers=bearer(token))
    assert str(ids[4]) not in [n["id"] for n in listed.json()]
    gone = await app_client.get(f"/api/v1/notifications/{ids[4]}", headers=bearer(token))
    assert gone.status_code == 404
    me = await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    kept = await notifications.page(app_client.services.store, int(me.json()["id"]), limit=10)
    assert len(kept) == 5
    unknown = await app_client.post("/api/v1/notifications/1/dismiss", headers=bearer(token))
    assert unknown.status_code == 404 and unknown.json() == {"error": "Record not found"}


async def test_clear_empties_the_apps_list(app_client):
    token, _ids = await five_follows(app_client)
    cleared = await app_client.post("/api/v1/notifications/clear", headers=bearer(token))
    assert cleared.status_code == 200
    assert (await app_client.get("/api/v1/notifications", headers=bearer(token))).json() == []


async def test_unread_count_counts_what_is_newer_than_the_notifications_marker(app_client):
    token, ids = await five_follows(app_client)
    first = await app_client.get("/api/v1/notifications/unread_count", headers=bearer(token))
    assert first.json() == {"count": 5}
    await app_client.post(
        "/api/v1/markers", data={"notifications[last_read_id]": str(ids[2])}, headers=bearer(token)
    )
    after = await app_client.get("/api/v1/notifications/unread_count", headers=bearer(token))
    assert after.json() == {"count": 2}
    grouped = await app_client.get("/api/v2/notifications/unread_count", headers=bearer(token))
    assert grouped.json() == {"count": 2}
    capped = await app_client.get(
        "/api/v1/notifications/unread_count?limit=1", headers=bearer(token)
    )
    assert capped.json() == {"count": 1}
    mentions = await app_client.get(
        "/api/v1/notifications/unread_count?types[]=mention", headers=bearer(token)
    )
    assert mentions.json() == {"count": 0}
