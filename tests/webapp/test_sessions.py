"""Session cookies and CSRF tokens (pure parts), and sessions that end by themselves."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from fedi_town.store import people
from fedi_town.webapp import sessions
from tests.conftest import make_settings
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio


def request_with(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": raw})


def test_the_cookie_is_host_prefixed_and_secure_over_https_only(tmp_path):
    https = make_settings("sqlite:///x", tmp_path, base_url="https://town.example")
    http = make_settings(
        "sqlite:///x", tmp_path, base_url="http://127.0.0.1:8000", allow_private_addresses=True
    )
    assert sessions.session_cookie(https) == "__Host-ftown_session"
    assert sessions.session_cookie(http) == "ftown_session"


def test_a_csrf_token_matches_only_its_own_secret():
    token = sessions.csrf_for("secret-one")
    assert sessions.csrf_matches("secret-one", token)
    assert not sessions.csrf_matches("secret-two", token)
    assert not sessions.csrf_matches(None, token)
    assert not sessions.csrf_matches("secret-one", None)


@pytest.mark.parametrize(
    ("headers", "same"),
    [
        ({}, True),
        ({"Origin": "https://town.example"}, True),
        ({"Origin": "https://TOWN.example"}, True),
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "http://town.example"}, False),
        ({"Origin": "null"}, False),
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Site": "same-origin", "Origin": "https://town.example"}, True),
    ],
)
def test_a_post_from_another_site_is_recognised(tmp_path, headers, same):
    settings = make_settings("sqlite:///x", tmp_path)
    assert sessions.same_origin(request_with(headers), settings) is same


async def test_an_idle_session_is_extended_when_used_and_ends_when_not(app_client):
    user = await owner_of(app_client, "bakery")
    store = app_client.services.store
    # When the session has been idle past its deadline
    await store.execute("UPDATE web_sessions SET expires_at = 1")
    # Then the app asks to sign in again
    page = await user.get("/app/bakery")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    await people.forget_expired(store, now=app_client.services.now_ms())
    assert await store.fetch_val("SELECT COUNT(*) FROM web_sessions") == 0
