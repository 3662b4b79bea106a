"""Every route of the owner's app: where it lives, and that every POST refuses a request
without its CSRF token (forms) or X-CSRF-Token (the passkey JSON calls)."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from fedi_town.webapp.routes import routes
from tests.webapp.kit import AppUser, owner_of

pytestmark = pytest.mark.anyio

# /oauth/authorize: the consent page of the Mastodon client API (webapp/authorize.py).
APP_PREFIXES = ("/app", "/login", "/logout", "/invite", "/admin", "/oauth/authorize")


def test_every_app_route_lives_under_the_apps_own_paths():
    for route in routes:
        assert isinstance(route, Route)
        assert route.path.startswith(APP_PREFIXES), route.path


def _filled(path: str) -> str:
    return re.sub(
        r"\{(\w+)(:\w+)?\}",
        lambda m: {"username": "bakery", "token": "x" * 43}.get(m.group(1), "1"),
        path,
    )


async def test_every_post_refuses_a_request_without_its_token(app_client):
    # Given a signed-in owner (so refusals are not just "sign in first")
    user = await owner_of(app_client, "bakery")
    await user.get("/app/bakery")
    posts = [r for r in routes if isinstance(r, Route) and "POST" in (r.methods or set())]
    assert len(posts) >= 8
    for route in posts:
        path = _filled(route.path)
        # When the form comes without a token, or the JSON call without its header
        answer = await user.http.post(path, data={"x": "1"})
        # Then it is refused: 403, or 404 where the thing named does not exist
        assert answer.status_code in {403, 404}, (route.path, answer.status_code)
        if answer.status_code == 403:
            assert answer.headers["content-type"].startswith(
                ("text/html", "application/problem+json")
            )


async def test_a_page_that_does_not_exist_is_an_html_404_for_a_browser(app_client):
    page = await AppUser(app_client).get("/app/admin/nothing/here", headers={"Accept": "text/html"})
    assert page.status_code in {303, 404}
