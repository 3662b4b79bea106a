"""read.paging: ordered collections are paged by ?page=N (1-based), pages past the end are
empty, and anything but a plain page number is a bad request."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from fedi_town.read.paging import page_number, paged
from tests.conftest import create_business
from tests.read.helpers import AP

pytestmark = pytest.mark.anyio

ACTOR = "https://town.example/users/bakery"


@pytest.mark.parametrize("page", ["0", "-1", "abc", "true", "01", "99999999999"])
async def test_a_bad_page_number_is_400(app_client, page):
    await create_business(app_client, "bakery")
    response = await app_client.get(f"/users/bakery/outbox?page={page}", headers=AP)
    assert response.status_code == 400


async def test_a_page_past_the_end_is_empty(app_client):
    await create_business(app_client, "bakery")
    page = (await app_client.get("/users/bakery/outbox?page=3", headers=AP)).json()
    assert page["orderedItems"] == []
    assert page["prev"] == f"{ACTOR}/outbox?page=2"


def request(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "query_string": query.encode(), "headers": []})


def test_no_page_parameter_asks_for_the_collection_itself():
    # Given a request without ?page
    # When the page number is read
    # Then there is none: the collection is wanted
    assert page_number(request("")) is None
    assert page_number(request("page=1000000")) == 1_000_000


async def test_the_collection_names_its_first_page_and_fetches_nothing():
    # Given a collection of 45 items
    fetched: list[tuple[int, int]] = []

    async def fetch(limit: int, offset: int) -> list[str]:
        fetched.append((limit, offset))
        return []

    # When the collection itself is built
    document = await paged(f"{ACTOR}/outbox", None, 45, fetch)
    # Then it counts the items and points at page 1, without listing any
    assert document["totalItems"] == 45
    assert document["first"] == f"{ACTOR}/outbox?page=1"
    assert fetched == []


async def test_a_page_fetches_its_twenty_and_links_to_its_neighbours():
    # Given a collection of 45 items
    items = [f"https://town.example/n/{n}" for n in range(45)]

    async def fetch(limit: int, offset: int) -> list[str]:
        return items[offset : offset + limit]

    # When its second and last pages are built
    second = await paged(f"{ACTOR}/outbox", 2, 45, fetch)
    last = await paged(f"{ACTOR}/outbox", 3, 45, fetch)
    # Then each holds its slice, its id is the URL it is fetched at, and only the last ends
    assert second["id"] == f"{ACTOR}/outbox?page=2"
    assert second["orderedItems"] == items[20:40]
    assert second["next"] == f"{ACTOR}/outbox?page=3"
    assert second["prev"] == f"{ACTOR}/outbox?page=1"
    assert last["orderedItems"] == items[40:]
    assert "next" not in last
