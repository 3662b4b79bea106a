"""The app's in-process client of the admin API: the person's caller reaches the API, errors
come back keyed by form field, and nothing from outside can pose as a person."""

from __future__ import annotations

import pytest

from fedi_town.api.auth import Caller
from fedi_town.webapp.client import Api, ApiAnswer, plain_words
from tests.conftest import create_business

pytestmark = pytest.mark.anyio


def test_field_errors_are_keyed_by_form_field_name():
    answer = ApiAnswer(
        422,
        {
            "detail": "bad",
            "errors": [
                {"pointer": "/content", "message": "too long"},
                {"pointer": "/hours/0/opens", "message": "not a time"},
                {"pointer": "/", "message": "missing"},
                {"parameter": "limit", "message": "not a number"},
                "not an object",
            ],
        },
    )
    assert answer.field_errors == {
        "content": "Too long.",
        "hours.0.opens": "Not a time.",
        "_": "Missing.",
        "limit": "Not a number.",
    }
    assert answer.detail == "bad" and not answer.ok
    assert ApiAnswer(200, {"detail": "x"}).detail == ""


async def test_a_call_carries_the_persons_caller_to_the_api(app_client):
    await create_business(app_client, "bakery")
    app = app_client._transport.app
    admin = Api(app, Caller(is_admin=True, role="admin", person_id=1), "https://town.example")
    answer = await admin.get("/api/v1/businesses/bakery")
    assert answer.ok and answer.data["username"] == "bakery"
    problem = await admin.patch("/api/v1/businesses/bakery", {"display_name": 5})
    assert problem.status == 422 and "display_name" in problem.field_errors


async def test_a_header_cannot_pose_as_a_signed_in_person(app_client):
    await create_business(app_client, "bakery")
    answer = await app_client.get(
        "/api/v1/businesses/bakery", headers={"fedi_town.caller": "admin"}
    )
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ("'' is too short", "Fill this in."),
        ("'' should be non-empty", "Fill this in."),
        ("'aaaa…' is too long", "This is too long."),
        ("'role' is a required property", "Fill this in."),
        ("'king' is not one of ['owner', 'staff']", "Pick one from the list."),
        ("no account by that name", "No account by that name."),
        ("Already a sentence!", "Already a sentence!"),
        ("  ", "This was not accepted."),
    ],
)
def test_schema_messages_become_plain_words(message, words):
    assert plain_words(message) == words
