"""inbound.routes: the three inbox paths take POSTs only, and Starlette's routes reach the same
inbox endpoint as the fast path does."""

from __future__ import annotations

import httpx
import pytest

from fedi_town.app import create_app
from fedi_town.inbound.routes import inbox_endpoint, inbox_routes
from fedi_town.services import Services

pytestmark = pytest.mark.anyio

INBOXES = ["/inbox", "/actor/inbox", "/users/bakery/inbox"]


def test_the_shared_the_instance_and_the_personal_inbox_are_declared():
    # Given the inbound routes
    # When their paths are read
    paths = [route.path for route in inbox_routes]  # type: ignore[attr-defined]
    # Then they are the three inboxes
    assert paths == ["/users/{username}/inbox", "/inbox", "/actor/inbox"]


@pytest.mark.parametrize("path", INBOXES)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_an_inbox_refuses_other_methods_with_405(app_client, path, method):
    # Given the whole app
    # When an inbox is called with a method other than POST
    response = await app_client.request(method, path, headers={"Accept": "application/json"})
    # Then the route refuses the method, saying POST is allowed
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


async def test_one_inbox_endpoint_serves_every_request_of_an_app(settings):
    # Given the services of one app
    services = Services.from_settings(settings)
    # When the inbox endpoint is asked for twice
    # Then it is the same one (its limits and counts are per process, not per request)
    assert inbox_endpoint(services) is inbox_endpoint(services)


@pytest.mark.parametrize(
    ("path", "status"), [("/inbox", 400), ("/actor/inbox", 400), ("/users/nobody/inbox", 404)]
)
async def test_a_post_reaching_an_inbox_through_starlettes_routes_is_checked_by_the_inbox(
    settings, path, status
):
    # Given the app's router alone, without the fast path in front of it
    app = create_app(settings, Services.from_settings(settings))

    async def routed_only(scope, receive, send):
        scope["app"] = app
        await app.router(scope, receive, send)

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=routed_only)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            # When a malformed activity is posted to an inbox
            response = await client.post(
                path, content=b"{not json", headers={"Content-Type": "application/activity+json"}
            )
    # Then the inbox endpoint refuses it (no such business, else not JSON) as a problem
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
