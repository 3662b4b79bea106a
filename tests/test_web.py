"""HTTP glue shared by every route: bounded JSON bodies, problem and activity responses."""

from __future__ import annotations

import json

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import (
    BadRequest,
    PayloadTooLarge,
    ProblemError,
    ServiceUnavailable,
    Unauthorized,
    Unprocessable,
)
from fedi_town.web import (
    activity_response,
    check_declared_length,
    dumps,
    problem_response,
    read_json,
    wants_activity_json,
)

pytestmark = pytest.mark.anyio

MAX = 64


async def echo(request: Request) -> Response:
    """Reads a JSON object of at most MAX bytes and answers with it, or with the problem."""
    try:
        data = await read_json(request, MAX)
    except ProblemError as error:
        return problem_response(error)
    return activity_response(data) if wants_activity_json(request) else Response(dumps(data))


async def post(body: bytes, **headers: str) -> httpx.Response:
    app = Starlette(routes=[Route("/", echo, methods=["POST"])])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://town.test") as client:
        return await client.post("/", content=body, headers=headers)


async def test_a_json_object_is_read_and_sent_back_compact_and_in_utf_8():
    response = await post('{"name": "Café"}'.encode(), **{"content-type": "application/json"})
    assert response.status_code == 200
    assert response.content == '{"name":"Café"}'.encode()


async def test_an_activity_json_client_gets_activity_json_that_varies_by_accept():
    # Given a client that asks for ActivityStreams
    headers = {"content-type": "application/activity+json", "accept": "application/activity+json"}
    # When it posts a document
    response = await post(b'{"type": "Note"}', **headers)
    # Then the answer is activity+json, marked as depending on Accept
    assert response.headers["content-type"] == "application/activity+json"
    assert response.headers["vary"] == "Accept"
    assert response.json() == {"type": "Note"}


async def test_a_body_of_another_media_type_is_refused_with_415():
    response = await post(b'{"a": 1}', **{"content-type": "text/plain"})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "send the body as application/json"


async def test_a_body_over_the_limit_is_refused_with_413():
    response = await post(json.dumps({"a": "x" * MAX}).encode())
    assert response.status_code == 413
    assert response.json()["title"] == "Payload Too Large"


async def test_json_that_is_not_an_object_is_a_400_that_does_not_echo_the_body():
    response = await post(b'["secret-token"]', **{"content-type": "application/json"})
    assert response.status_code == 400
    assert "secret-token" not in response.text


@pytest.mark.parametrize(
    ("declared", "error"), [("65", PayloadTooLarge), ("ten", BadRequest), (b"999", PayloadTooLarge)]
)
def test_a_declared_length_over_the_limit_or_not_a_number_is_refused_before_reading(
    declared: str | bytes, error: type[ProblemError]
):
    with pytest.raises(error):
        check_declared_length(declared, MAX)


def test_a_declared_length_within_the_limit_or_none_is_fine():
    check_declared_length("64", MAX)
    check_declared_length(None, MAX)


def test_a_problem_document_has_the_rfc_9457_fields_and_the_listed_errors():
    # Given a 422 that lists one problem per field
    error = Unprocessable("1 problem(s)", errors=[{"pointer": "/username", "message": "bad"}])
    # When it becomes a response
    response = problem_response(error)
    # Then the body is a problem document with the errors
    assert response.media_type == "application/problem+json"
    assert json.loads(response.body) == {
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "1 problem(s)",
        "errors": [{"pointer": "/username", "message": "bad"}],
    }


def test_a_401_says_how_to_authenticate_and_a_503_when_to_come_back():
    unauthorized = problem_response(Unauthorized("missing token"))
    unavailable = problem_response(ServiceUnavailable("disk full", retry_after=30))
    assert unauthorized.headers["www-authenticate"] == 'Bearer realm="fedi-town"'
    assert unavailable.status_code == 503 and unavailable.headers["retry-after"] == "30"
