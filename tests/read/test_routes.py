"""read.routes: every read path is served by the app, and none of them is under the API."""

from __future__ import annotations

import pytest
from starlette.routing import Mount, Route

from fedi_town.read.routes import routes
from tests.conftest import create_business
from tests.read.helpers import AP, BROWSER, insert_post

pytestmark = pytest.mark.anyio


def paths() -> list[str]:
    return [route.path for route in routes if isinstance(route, Route | Mount)]


def test_no_read_path_is_under_the_api_or_declared_twice():
    # Given the read side's routes
    found = paths()
    # When their paths are compared
    # Then none is under /api/, and no path is declared twice
    assert not [p for p in found if p.startswith("/api/")]
    assert len(found) == len(set(found))


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/.well-known/webfinger?resource=acct:bakery@town.example", {}),
        ("/.well-known/host-meta", {}),
        ("/.well-known/nodeinfo", {}),
        ("/nodeinfo/2.1", {}),
        ("/actor", AP),
        ("/users/bakery", AP),
        ("/users/bakery/outbox", AP),
        ("/users/bakery/followers", AP),
        ("/users/bakery/following", AP),
        ("/users/bakery/collections/featured", AP),
        ("/users/bakery/collections/tags", AP),
        ("/users/bakery/statuses/{post}", AP),
        ("/@bakery", BROWSER),
        ("/@bakery/{post}", BROWSER),
        ("/", BROWSER),
    ],
)
async def test_each_read_path_answers_a_get(app_client, path, headers):
    # Given a business with a post
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client)
    # When the read path is fetched
    response = await app_client.get(path.replace("{post}", str(post_id)), headers=headers)
    # Then the app serves it
    assert response.status_code == 200, (path, response.text[:200])
