"""Ids in the admin API's paths, queries and bodies: out of range or not numbers at all.

Ids are 63-bit snowflakes (1..2^63-1, ``fedi_town.protocol.ids``). Past that they used to
reach SQL as an overflow (500). Now a bad id in a path is 404, in a query 400 naming the
parameter, in a body 422 pointing at the field; on both backends, for the admin and an owner.
"""

from __future__ import annotations

import pytest

from tests.conftest import admin_headers, create_business
from tests.reliability import record

pytestmark = pytest.mark.anyio

BAD_IDS = [
    "9223372036854775808",
    "99999999999999999999999",
    "9" * 5000,
    "0",
    "-1",
    "1e3",
    "%00",
    "%EF%BC%91",
    "abc",
]
B = "/api/v1/businesses/bakery"

PATH_ROUTES = [
    ("GET", B + "/posts/{id}"),
    ("PATCH", B + "/posts/{id}"),
    ("DELETE", B + "/posts/{id}"),
    ("POST", B + "/posts/{id}/pin"),
    ("POST", B + "/posts/{id}/unpin"),
    ("GET", B + "/posts/{id}/deliveries"),
    ("GET", B + "/media/{id}"),
    ("PATCH", B + "/media/{id}"),
    ("DELETE", B + "/media/{id}"),
    ("DELETE", B + "/followers/{id}"),
    ("POST", B + "/follow_requests/{id}/accept"),
    ("POST", B + "/follow_requests/{id}/reject"),
    ("DELETE", B + "/blocks/{id}"),
    ("DELETE", "/api/v1/admin/domain_blocks/{id}"),
]
PAGED = [
    B + "/posts",
    B + "/notifications",
    B + "/followers",
    B + "/follow_requests",
    B + "/blocks",
    B + "/reports",
    "/api/v1/admin/domain_blocks",
    "/api/v1/admin/reports",
]
QUERY_PARAMS = ["max_id", "limit"]
BODY_BAD_IDS = ["9223372036854775808", "99999999999999999999", "0", "-5", "", "1.5", "１"]


def _bodies(method: str, path: str) -> dict[str, object] | None:
    if method != "PATCH":
        return None
    return {"description": "x"} if "/media/" in path else {"content": "edited"}


@pytest.mark.parametrize("method,route", PATH_ROUTES, ids=[f"{m} {r}" for m, r in PATH_ROUTES])
async def test_a_bad_id_in_an_admin_path_is_not_found(app_client, method, route):
    # Given a business and the admin token
    await create_business(app_client, "bakery")
    for raw in BAD_IDS:
        # When a path names an object by an id out of range or not a number
        response = await app_client.request(
            method, route.replace("{id}", raw), headers=admin_headers(), json=_bodies(method, route)
        )
        record("admin-api", "bad id in a path", str(response.status_code))
        # Then there is no such object: 404, as a problem document
        assert response.status_code == 404, (raw, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("path", PAGED)
async def test_a_bad_page_parameter_is_a_bad_request_naming_it(app_client, path):
    # Given a business and the admin token
    await create_business(app_client, "bakery")
    for name in QUERY_PARAMS:
        for raw in [*BAD_IDS, " 5", "5 ", *(["81", "100"] if name == "limit" else [])]:
            # When a page is asked for with a bad max_id or limit
            response = await app_client.get(f"{path}?{name}={raw}", headers=admin_headers())
            record("admin-api", f"bad {name} in a query", str(response.status_code))
            # Then the answer is 400 and names the parameter
            assert response.status_code == 400, (name, raw, response.status_code)
            assert name in response.json()["detail"]


async def test_ids_nobody_checks_in_a_query_are_ignored(app_client):
    # Given a business (since_id and min_id are not paging parameters of this API)
    await create_business(app_client, "bakery")
    # When they carry garbage
    response = await app_client.get(
        f"{B}/notifications?since_id=99999999999999999999&min_id=%00", headers=admin_headers()
    )
    record("admin-api", "unknown paging parameter with garbage", str(response.status_code))
    # Then the page is served as if they were absent
    assert response.status_code == 200


@pytest.mark.parametrize("key", ["avatar_media_id", "header_media_id"])
async def test_a_bad_media_id_in_a_profile_change_is_unprocessable_naming_the_field(
    app_client, key
):
    # Given a business
    await create_business(app_client, "bakery")
    for raw in BODY_BAD_IDS:
        # When its avatar or header is set to an id out of range
        response = await app_client.patch(B, json={key: raw}, headers=admin_headers())
        record("admin-api", "bad media id in a profile body", str(response.status_code))
        # Then the answer is 422 pointing at the field
        assert response.status_code == 422, (raw, response.status_code)
        assert response.json()["errors"][0]["pointer"] == f"/{key}"


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_bad_media_id_in_a_post_is_unprocessable_naming_the_item(app_client, method):
    # Given a business with a post
    await create_business(app_client, "bakery")
    created = await app_client.post(f"{B}/posts", json={"content": "hi"}, headers=admin_headers())
    url = f"{B}/posts" if method == "POST" else f"{B}/posts/{created.json()['id']}"
    for raw in BODY_BAD_IDS:
        # When a post is written or edited with a media id out of range
        body = {"content": "with an image", "media_ids": [raw]}
        response = await app_client.request(method, url, json=body, headers=admin_headers())
        record("admin-api", "bad media id in a post body", str(response.status_code))
        # Then the answer is 422 pointing at the item
        assert response.status_code == 422, (raw, response.status_code)
        assert response.json()["errors"][0]["pointer"].startswith("/media_ids")
