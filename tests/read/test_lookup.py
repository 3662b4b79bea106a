"""read.lookup: from a URL's username to its business: the canonical spelling, 404 and 410."""

from __future__ import annotations

import pytest

from tests.conftest import create_business
from tests.read.helpers import AP, BROWSER, insert_post

pytestmark = pytest.mark.anyio

ACTOR = "https://town.example/users/bakery"


async def test_another_case_redirects_to_the_canonical_id(app_client):
    await create_business(app_client, "bakery")
    response = await app_client.get("/users/BAKERY", headers=AP)
    assert response.status_code == 301
    assert response.headers["location"] == ACTOR


async def test_unknown_actor_is_404(app_client):
    response = await app_client.get("/users/nobody", headers=AP)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_profile_url_in_another_case_redirects(app_client):
    await create_business(app_client, "bakery")
    response = await app_client.get("/@Bakery", headers=BROWSER)
    assert response.status_code == 301
    assert response.headers["location"] == "https://town.example/@bakery"


async def test_a_redirect_keeps_the_rest_of_the_path_and_the_query(app_client):
    # Given a business and one of its posts
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client)
    # When the post is asked for under the username in another case, with a query
    response = await app_client.get(f"/users/BaKeRy/statuses/{post_id}?x=1", headers=AP)
    # Then the redirect changes only the username's spelling
    assert response.status_code == 301
    assert response.headers["location"] == f"{ACTOR}/statuses/{post_id}?x=1"


@pytest.mark.parametrize("name", ["b%C3%A4ckerei", "bakery%00", "b" * 300])
async def test_a_name_that_cannot_be_a_username_is_404_without_a_lookup(app_client, name):
    # Given a business called bakery
    await create_business(app_client, "bakery")
    # When an actor URL names something no username can be
    response = await app_client.get(f"/users/{name}", headers=AP)
    # Then it is not found
    assert response.status_code == 404
