"""Scheduling a post from a Mastodon app, rescheduling and cancelling it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from mastodon import return_types

from tests.mastodon.flow import bearer, business_with_token, entity_gaps

pytestmark = pytest.mark.anyio


def later(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


async def test_a_scheduled_post_waits_can_move_and_can_be_cancelled(app_client):
    # Given an app signed in as the bakery
    _owner, token = await business_with_token(app_client)
    headers = bearer(token)
    # When it posts with scheduled_at
    answer = await app_client.post(
        "/api/v1/statuses",
        json={"status": "Bake sale tomorrow", "scheduled_at": later(2), "visibility": "unlisted"},
        headers=headers,
    )
    # Then it is a ScheduledStatus, listed, and not a status yet
    assert answer.status_code == 200, answer.text
    scheduled = answer.json()
    assert scheduled["params"]["text"] == "Bake sale tomorrow"
    assert scheduled["params"]["visibility"] == "unlisted"
    assert entity_gaps(return_types.ScheduledStatus, scheduled) == []
    listed = await app_client.get("/api/v1/scheduled_statuses", headers=headers)
    assert [s["id"] for s in listed.json()] == [scheduled["id"]]
    status = await app_client.get(f"/api/v1/statuses/{scheduled['id']}", headers=headers)
    assert status.status_code == 404
    # When it moves it, then cancels it
    path = f"/api/v1/scheduled_statuses/{scheduled['id']}"
    moved = await app_client.put(path, json={"scheduled_at": later(5)}, headers=headers)
    assert moved.json()["scheduled_at"] > scheduled["scheduled_at"]
    cancelled = await app_client.delete(path, headers=headers)
    assert cancelled.status_code == 200 and cancelled.json() == {}
    # Then it is gone
    assert (await app_client.get(path, headers=headers)).status_code == 404
    assert (await app_client.get("/api/v1/scheduled_statuses", headers=headers)).json() == []
