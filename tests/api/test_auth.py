"""Bearer tokens of the admin API: an address sending wrong tokens is made to wait, and right
tokens never count against it (in-process app, both backends)."""

from __future__ import annotations

import pytest

from fedi_town.api import auth
from tests.conftest import admin_headers
from tests.reliability import record

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_an_address_sending_wrong_tokens_gets_429_and_the_right_token_still_works_elsewhere(
    app_client,
):
    # Given an instance (the in-process client's address is the same for every call)
    wrong = {"Authorization": "Bearer ftown_not-a-token"}
    # When 10 wrong tokens are sent, then each gets 401
    statuses = [
        (await app_client.get("/api/v1/businesses", headers=wrong)).status_code for _ in range(10)
    ]
    assert statuses == [401] * 10
    # And from then on that address gets 429 with Retry-After, even with the admin token
    refused = await app_client.get("/api/v1/businesses", headers=wrong)
    admin = await app_client.get("/api/v1/businesses", headers=admin_headers())
    record("admin-api", "wrong bearer tokens from one address", str(refused.status_code))
    assert (refused.status_code, admin.status_code) == (429, 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["status"] == 429


async def test_right_tokens_never_count_towards_the_limit(app_client):
    # Given an owner of the instance calling 30 times with the admin token
    for _ in range(30):
        assert (
            await app_client.get("/api/v1/businesses", headers=admin_headers())
        ).status_code == 200
    # When a wrong token follows, then it gets a plain 401
    wrong = await app_client.get("/api/v1/businesses", headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 401


def test_the_window_ends_and_the_address_may_try_again():
    clock = Clock()
    failures = auth.AuthFailures(clock)
    for _ in range(auth.MAX_FAILURES):
        failures.failed("192.0.2.1")
    assert failures.wait("192.0.2.1") == pytest.approx(auth.FAILURE_WINDOW_S)
    assert failures.wait("192.0.2.2") == 0.0
    clock.now += auth.FAILURE_WINDOW_S
    assert failures.wait("192.0.2.1") == 0.0
