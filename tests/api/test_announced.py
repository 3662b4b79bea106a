"""The routes offers and events share (``api.announced``): the same five routes under each
kind's path, its own 404, and the owner's list paged newest first with a link to the next
page. The clock stands at 2026-11-23 12:00 UTC."""

from __future__ import annotations

import pytest

from fedi_town.api import events, offers
from fedi_town.api.announced import shared_values
from fedi_town.errors import Unprocessable
from tests.conftest import create_business
from tests.outbound.conftest import owner

pytestmark = pytest.mark.anyio

BODIES = {
    "offers": {"title": "Buns"},
    "events": {"title": "Tasting", "start": "2026-12-01T10:00", "end": "2026-12-01T12:00"},
}


@pytest.mark.parametrize("kind", [offers.KIND, events.KIND], ids=["offers", "events"])
def test_each_kind_has_the_same_five_routes_under_its_own_path(kind):
    # Given a kind of announced thing
    # When its routes are listed
    found = [(sorted(r.methods or ()), r.path) for r in kind.routes()]
    # Then they are create, list, read, change and delete under its plural
    base = f"/api/v1/businesses/{{username}}/{kind.plural}"
    assert found == [
        (["POST"], base),
        (["GET", "HEAD"], base),
        (["GET", "HEAD"], base + "/{id}"),
        (["PATCH"], base + "/{id}"),
        (["DELETE"], base + "/{id}"),
    ]


@pytest.mark.parametrize("plural", ["offers", "events"])
async def test_an_unknown_id_is_a_404_naming_the_kind(clocked_client, plural):
    # Given a business with nothing of this kind
    shop = await create_business(clocked_client, "bakery")
    # When its owner asks for an id that does not exist
    response = await clocked_client.get(
        f"/api/v1/businesses/bakery/{plural}/12345", headers=owner(shop)
    )
    # Then the answer is a 404 problem saying which kind was not found
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert f"no such {plural[:-1]}" in response.text


@pytest.mark.parametrize("plural", ["offers", "events"])
async def test_the_owners_list_pages_newest_first(clocked_client, plural):
    # Given three written, one after another
    shop = await create_business(clocked_client, "bakery")
    base = f"/api/v1/businesses/bakery/{plural}"
    made = []
    for _ in range(3):
        response = await clocked_client.post(base, json=BODIES[plural], headers=owner(shop))
        assert response.status_code == 201, response.text
        assert response.headers["location"] == f"{base}/{response.json()['id']}"
        made.append(response.json()["id"])
    # When the owner reads them two at a time, following the link to the next page
    first = (await clocked_client.get(f"{base}?limit=2", headers=owner(shop))).json()
    second = (await clocked_client.get(first["next"], headers=owner(shop))).json()
    # Then they come newest first, each once, and the short last page has no next link
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert ids == made[::-1]
    assert second["next"] is None


def test_a_body_is_read_over_the_current_columns_with_title_and_text_tidied():
    # Given a current row and a change of its title and text
    class Current:
        title, text, price = "Buns", "Warm", "2.00"

    # When the columns after the change are read
    values = shared_values(
        {"title": "  Hot \n cross  buns ", "text": " Fresh \n"},
        Current(),
        (
            "title",
            "text",
            "price",
        ),
    )
    # Then the untouched ones stay, the title is one line and the text is trimmed
    assert values == {"title": "Hot cross buns", "text": "Fresh", "price": "2.00"}


def test_an_empty_title_is_a_422_naming_it():
    with pytest.raises(Unprocessable) as refused:
        shared_values({"title": " \t "}, None, ("title", "text"))
    assert refused.value.errors == [{"pointer": "/title", "message": "title is empty"}]
