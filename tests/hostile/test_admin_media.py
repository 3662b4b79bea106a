"""Hostile multipart uploads to the admin API: refused with a 4xx, nothing stored.

Form fields are not JSON, so the checks ``web.parse_json_object`` makes for JSON bodies
(no NUL, strict UTF-8) are made on them here: a description that PostgreSQL text cannot
hold must be a 422, not a database error.
"""

from __future__ import annotations

import pytest

from tests.conftest import create_business
from tests.outbound.conftest import image_bytes
from tests.reliability import record

pytestmark = pytest.mark.anyio

BOUNDARY = "hostileboundary"


def part(name: str, value: bytes, filename: str | None = None, ctype: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"Content-Disposition: {disposition}\r\n"
    if ctype:
        head += f"Content-Type: {ctype}\r\n"
    return f"--{BOUNDARY}\r\n{head}\r\n".encode("utf-8", "surrogateescape") + value + b"\r\n"


def form(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


JPEG = image_bytes()
FILE = part("file", JPEG, "photo.jpg", "image/jpeg")
CASES: dict[str, tuple[bytes, str]] = {
    "NUL in the description": (form(FILE, part("description", b"a\x00b")), ""),
    # Starlette reads a field that is not UTF-8 as Latin-1: stored as such, harmless.
    "invalid UTF-8 in the description": (form(FILE, part("description", b"\xff\xfe\xc0")), "ok"),
    "lone surrogate bytes in the description": (form(FILE, part("description", b"\xed\xa0")), "ok"),
    "description over 1,500 characters": (form(FILE, part("description", b"x" * 1501)), ""),
    "no file part": (form(part("description", b"alt")), ""),
    "two files": (form(FILE, part("file", JPEG, "b.jpg", "image/jpeg")), ""),
    "file under another name": (form(part("photo", JPEG, "a.jpg", "image/jpeg")), ""),
    "unknown field": (form(FILE, part("visibility", b"public")), ""),
    "too many fields": (form(FILE, *[part(f"f{n}", b"x") for n in range(10)]), ""),
    "NUL and traversal in the filename": (
        form(part("file", JPEG, "../../a\x00.jpg", "image/jpeg")),
        "ok",
    ),
    "not an image": (form(part("file", b"<script>alert(1)</script>", "a.jpg", "image/jpeg")), ""),
    "empty file": (form(part("file", b"", "a.jpg", "image/jpeg")), ""),
    "truncated body": (form(FILE)[:-30], ""),
    "garbage instead of multipart": (b"\x00\xff" * 100, ""),
    "no boundary in the content type": (form(FILE), "noboundary"),
    "JSON instead of multipart": (b'{"description":"x"}', "json"),
}


@pytest.mark.parametrize("case_class", list(CASES))
async def test_a_hostile_upload_is_refused_and_stores_nothing(app_client, case_class):
    # Given a business with no media
    created = await create_business(app_client, "bakery")
    body, how = CASES[case_class]
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    if how == "noboundary":
        content_type = "multipart/form-data"
    elif how == "json":
        content_type = "application/json"
    headers = {"Authorization": f"Bearer {created['owner_token']}", "Content-Type": content_type}
    # When the upload is sent
    response = await app_client.post(
        "/api/v1/businesses/bakery/media", content=body, headers=headers
    )
    record("admin-api", f"upload: {case_class}", str(response.status_code))
    # Then it is refused with a problem, never a 5xx (a harmless oddity is stored, harmlessly)
    assert response.status_code < 500, response.text
    stored = await app_client.services.store.fetch_all("SELECT id FROM media")
    if how == "ok":
        assert response.status_code == 201, response.text
        return
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    # And nothing is stored
    assert stored == []
