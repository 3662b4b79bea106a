"""The API's route list: every route is served by the app, and none answers without a token."""

from __future__ import annotations

import re

import pytest
from starlette.routing import Route

from fedi_town.api.routes import routes

pytestmark = pytest.mark.anyio


def calls() -> list[tuple[str, str]]:
    """(method, path) of every API route, its parameters filled with plausible values."""
    found = []
    for route in routes:
        assert isinstance(route, Route)
        path = re.sub(r"\{username\}", "bakery", route.path)
        path = re.sub(r"\{\w+\}", "1", path)
        found += [(method, path) for method in sorted(route.methods or ()) if method != "HEAD"]
    return found


def test_every_route_is_under_the_api_prefix():
    # Given the API's routes
    # When their paths are read
    paths = {route.path for route in routes if isinstance(route, Route)}
    # Then each one is under /api/v1/, so the API never shadows a read path
    assert paths and all(path.startswith("/api/v1/") for path in paths)


@pytest.mark.parametrize(("method", "path"), calls())
async def test_every_route_is_served_and_asks_for_a_token(app_client, method, path):
    # Given the whole app, and a business its route may name
    # When the route is called without an Authorization header
    response = await app_client.request(method, path)
    # Then the app routes it to the API, which answers 401 problem+json (never 404 or 405)
    assert response.status_code == 401, (method, path, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
