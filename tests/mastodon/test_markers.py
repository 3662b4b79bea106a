"""Reading positions kept per business and shared by its apps."""

from __future__ import annotations

import pytest

from tests.mastodon.flow import bearer, business_with_token, token_for

pytestmark = pytest.mark.anyio


async def test_a_saved_marker_is_read_back_by_another_app_of_the_business(app_client):
    owner, token = await business_with_token(app_client)
    saved = await app_client.post(
        "/api/v1/markers",
        data={"home[last_read_id]": "1234", "notifications[last_read_id]": "99"},
        headers=bearer(token),
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["home"]["last_read_id"] == "1234"
    assert saved.json()["home"]["version"] == 1
    again = await app_client.post(
        "/api/v1/markers", json={"home": {"last_read_id": "2000"}}, headers=bearer(token)
    )
    assert set(again.json()) == {"home"} and again.json()["home"]["version"] == 2
    other = await token_for(app_client, owner)
    read = await app_client.get(
        "/api/v1/markers?timeline[]=home&timeline[]=notifications", headers=bearer(other)
    )
    assert read.json()["home"]["last_read_id"] == "2000"
    assert read.json()["notifications"]["last_read_id"] == "99"
    only = await app_client.get("/api/v1/markers?timeline[]=home", headers=bearer(other))
    assert set(only.json()) == {"home"}


async def test_a_marker_that_is_not_an_id_is_refused(app_client):
    _owner, token = await business_with_token(app_client)
    answer = await app_client.post(
        "/api/v1/markers", data={"home[last_read_id]": "x"}, headers=bearer(token)
    )
    assert answer.status_code == 422 and answer.json()["error"].startswith("Validation failed")
