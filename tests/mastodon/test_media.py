"""Photos from a Mastodon app, through the admin API's image handling."""

from __future__ import annotations

import pytest

from tests.mastodon.flow import bearer, business_with_token
from tests.media.conftest import image_bytes

pytestmark = pytest.mark.anyio


async def test_an_upload_answers_a_media_attachment_with_its_size(app_client):
    _owner, token = await business_with_token(app_client)
    response = await app_client.post(
        "/api/v2/media",
        files={"file": ("p.jpg", image_bytes(), "image/jpeg")},
        data={"description": "A loaf"},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    media = response.json()
    assert media["type"] == "image" and media["description"] == "A loaf"
    assert media["meta"]["original"] == {
        "width": 64,
        "height": 48,
        "size": "64x48",
        "aspect": 64 / 48,
    }
    assert media["url"].startswith("http")


async def test_alt_text_can_be_changed_and_read_back(app_client):
    _owner, token = await business_with_token(app_client)
    uploaded = await app_client.post(
        "/api/v2/media",
        files={"file": ("p.png", image_bytes("PNG"), "image/png")},
        headers=bearer(token),
    )
    path = f"/api/v1/media/{uploaded.json()['id']}"
    changed = await app_client.put(path, data={"description": "Rye"}, headers=bearer(token))
    assert changed.json()["description"] == "Rye"
    assert (await app_client.get(path, headers=bearer(token))).json()["description"] == "Rye"


async def test_not_an_image_is_415_and_another_businesss_media_is_404(app_client):
    _a, token_a = await business_with_token(app_client, "bakery")
    _b, token_b = await business_with_token(app_client, "butcher")
    refused = await app_client.post(
        "/api/v2/media", files={"file": ("x.txt", b"hello", "text/plain")}, headers=bearer(token_a)
    )
    assert refused.status_code == 415 and "error" in refused.json()
    theirs = await app_client.post(
        "/api/v2/media",
        files={"file": ("p.png", image_bytes("PNG"), "image/png")},
        headers=bearer(token_b),
    )
    response = await app_client.get(f"/api/v1/media/{theirs.json()['id']}", headers=bearer(token_a))
    assert response.status_code == 404


async def test_a_token_without_write_media_cannot_upload(app_client):
    _owner, token = await business_with_token(app_client, scopes="read write:statuses")
    response = await app_client.post(
        "/api/v2/media",
        files={"file": ("p.png", image_bytes("PNG"), "image/png")},
        headers=bearer(token),
    )
    assert response.status_code == 403
