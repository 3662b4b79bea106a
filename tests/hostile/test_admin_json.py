"""Malformed and wrong-typed JSON on every admin API write: 400, 415 or 422, never a 5xx.

The admin API reads bodies with ``web.read_json`` (shared with the inbox): strict UTF-8, no
NUL or lone surrogate, nesting at most 64 deep, an object at the top. What parses is then
checked against ``schemas/``, so a string where an object is expected, or an object where
a string is, is a 422 naming the field.
"""

from __future__ import annotations

import pytest

from tests.conftest import admin_headers, create_business
from tests.read.helpers import insert_media
from tests.reliability import record

pytestmark = pytest.mark.anyio

DEEP = 10_000
BODIES: dict[str, bytes] = {
    "arrays nested 10,000 deep": b"[" * DEEP + b"]" * DEEP,
    "objects nested 10,000 deep": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "a field nested 10,000 deep": b'{"content":' + b"[" * DEEP + b"]" * DEEP + b"}",
    "an array": b'["content"]',
    "a number": b"42",
    "a string": b'"content"',
    "null": b"null",
    "true": b"true",
    "empty body": b"",
    "NUL in a string": b'{"content":"a\\u0000b","display_name":"a\\u0000b","domain":"a\\u0000"}',
    "lone surrogate": b'{"content":"a\\ud800","display_name":"\\udfff","description":"\\ud800"}',
    "invalid UTF-8": b'{"content":"\xff\xfe","description":"\xc0\xae"}',
    "byte order mark": b'\xef\xbb\xbf{"content":"hi"}',
    "UTF-16": '{"content":"hi"}'.encode("utf-16"),
    "NaN": b'{"content":NaN,"sensitive":Infinity}',
    "integer of 5,000 digits": b'{"content":' + b"9" * 5000 + b"}",
    "truncated": b'{"content":"hi"',
    "duplicate keys": b'{"content":"a","content":{"x":1}}',
    "object where a string is expected": b'{"content":{"a":1},"display_name":{},"domain":{},'
    b'"description":{},"username":{}}',
    "array where a string is expected": b'{"content":["a"],"display_name":[],"domain":[],'
    b'"description":[],"username":[]}',
    "number where an id is expected": b'{"media_ids":[1],"avatar_media_id":1,"content":"x"}',
    "string where an array is expected": b'{"media_ids":"1","fields":"x","content":"x"}',
}
ROUTES = [
    ("POST", "/api/v1/businesses"),
    ("PATCH", "/api/v1/businesses/bakery"),
    ("POST", "/api/v1/businesses/bakery/posts"),
    ("POST", "/api/v1/businesses/bakery/posts/preview"),
    ("PATCH", "/api/v1/businesses/bakery/posts/{post}"),
    ("PATCH", "/api/v1/businesses/bakery/media/{media}"),
    ("POST", "/api/v1/businesses/bakery/blocks"),
    ("POST", "/api/v1/admin/domain_blocks"),
]


@pytest.mark.parametrize("case_class", list(BODIES))
async def test_malformed_json_on_every_admin_write_is_refused(app_client, case_class):
    # Given a business with a post and an image
    await create_business(app_client, "bakery")
    post = await app_client.post(
        "/api/v1/businesses/bakery/posts", json={"content": "First"}, headers=admin_headers()
    )
    media_id = await insert_media(app_client)
    headers = {**admin_headers(), "Content-Type": "application/json"}
    for method, template in ROUTES:
        path = template.replace("{post}", post.json()["id"]).replace("{media}", str(media_id))
        # When the body is sent
        response = await app_client.request(
            method, path, content=BODIES[case_class], headers=headers
        )
        record("admin-api", case_class, str(response.status_code))
        # Then it is refused as malformed (400) or breaking the schema (422), as a problem
        assert response.status_code in {400, 422}, (path, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_body_sent_as_another_media_type_is_refused(app_client):
    # Given a business
    await create_business(app_client, "bakery")
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        # When a post is sent with a content type that is not JSON
        response = await app_client.post(
            "/api/v1/businesses/bakery/posts",
            content=b'{"content":"hi"}',
            headers={**admin_headers(), "Content-Type": content_type},
        )
        record("admin-api", "body not sent as JSON", str(response.status_code))
        # Then the answer is 415
        assert response.status_code == 415
