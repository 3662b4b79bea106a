"""Parameters as Mastodon apps send them: forms with name[] arrays, JSON, queries."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.requests import Request

from fedi_town.errors import BadRequest, UnsupportedMedia
from fedi_town.mastodon import params

pytestmark = pytest.mark.anyio


def request(body: bytes, content_type: str, query: bytes = b"") -> Request:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": query,
        "headers": [(b"content-type", content_type.encode())],
    }
    return Request(scope, receive)


async def test_a_form_with_arrays_becomes_lists():
    body = b"status=Hi&media_ids[]=1&media_ids[]=2&sensitive=true"
    values = await params.read(request(body, "application/x-www-form-urlencoded"), 1000)
    assert values == {"status": "Hi", "media_ids": ["1", "2"], "sensitive": "true"}
    assert params.strings(values, "media_ids") == ["1", "2"]
    assert params.flag(values, "sensitive") is True


async def test_json_is_read_and_overlays_the_query():
    body = b'{"status": "Hi", "media_ids": ["3"], "sensitive": false}'
    values = await params.read(request(body, "application/json", b"status=Old&x=1"), 1000)
    assert values == {"status": "Hi", "media_ids": ["3"], "sensitive": False, "x": "1"}
    assert params.flag(values, "sensitive") is False
    assert params.text(values, "sensitive") == "false"


async def test_nul_and_other_content_types_are_refused():
    with pytest.raises(BadRequest):
        await params.read(request(b"status=a%00b", "application/x-www-form-urlencoded"), 1000)
    with pytest.raises(UnsupportedMedia):
        await params.read(request(b"<x/>", "application/xml"), 1000)


def test_a_string_parameter_that_is_an_object_is_refused():
    with pytest.raises(BadRequest):
        params.text({"status": {"a": 1}}, "status")
    assert params.flag({}, "sensitive") is None


async def test_a_multipart_form_gives_its_text_fields_as_masto_js_sends_the_token_request():
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\n'
        b"authorization_code\r\n"
        b'--XyZ\r\nContent-Disposition: form-data; name="scope[]"\r\n\r\nread\r\n'
        b"--XyZ--\r\n"
    )
    values = await params.read(request(body, "multipart/form-data; boundary=XyZ"), 1000)
    assert values == {"grant_type": "authorization_code", "scope": ["read"]}
    with pytest.raises(BadRequest):
        await params.read(request(b"--nope", "multipart/form-data; boundary=XyZ"), 1000)
