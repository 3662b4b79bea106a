"""Editing the business's profile from a Mastodon app."""

from __future__ import annotations

import pytest

from tests.mastodon.flow import bearer, business_with_token
from tests.media.conftest import image_bytes

pytestmark = pytest.mark.anyio

PATH = "/api/v1/accounts/update_credentials"


async def test_name_bio_fields_and_avatar_change_through_a_multipart_form(app_client):
    # Given an app signed in as the bakery
    _owner, token = await business_with_token(app_client, scopes="read write")
    # When it sends a new name, bio, a field and an avatar, as Mastodon apps do
    response = await app_client.patch(
        PATH,
        data={
            "display_name": "Corner Bakery & Café",
            "note": "Bread since 1950",
            "locked": "true",
            "fields_attributes[0][name]": "Open",
            "fields_attributes[0][value]": "7–18",
        },
        files={"avatar": ("a.png", image_bytes("PNG"), "image/png")},
        headers=bearer(token),
    )
    # Then the account says so, and the admin API's view of the business too
    assert response.status_code == 200, response.text
    account = response.json()
    assert account["display_name"] == "Corner Bakery & Café"
    assert account["note"] == "<p>Bread since 1950</p>"
    assert account["source"]["note"] == "Bread since 1950"
    assert account["locked"] is True
    assert account["fields"][0]["name"] == "Open"
    assert "/media/" in account["avatar"]


async def test_json_fields_and_a_bad_name_in_mastodons_words(app_client):
    _owner, token = await business_with_token(app_client)
    ok = await app_client.patch(
        PATH,
        json={"fields_attributes": [{"name": "Phone", "value": "0123"}]},
        headers=bearer(token),
    )
    assert ok.json()["fields"][0]["value"] == "0123"
    bad = await app_client.patch(PATH, json={"display_name": ""}, headers=bearer(token))
    assert bad.status_code == 422 and bad.json()["error"].startswith("Validation failed")


async def test_a_token_without_write_accounts_cannot_edit(app_client):
    _owner, token = await business_with_token(app_client, scopes="read write:statuses")
    response = await app_client.patch(PATH, json={"note": "x"}, headers=bearer(token))
    assert response.status_code == 403
