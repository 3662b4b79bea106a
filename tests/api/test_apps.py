"""The admin API's list of Mastodon-client apps signed in as a business, and revoking."""

from __future__ import annotations

import pytest

from tests.conftest import create_business
from tests.mastodon.flow import bearer, business_with_token

pytestmark = pytest.mark.anyio


async def test_an_owner_lists_and_revokes_an_app(app_client):
    # Given an app signed in as the bakery
    _owner, token = await business_with_token(app_client)
    owner_token = (await create_business(app_client, "butcher"))["owner_token"]
    from tests.conftest import admin_headers

    listed = await app_client.get("/api/v1/businesses/bakery/apps", headers=admin_headers())
    [item] = listed.json()["items"]
    assert item["app_name"] == "Phone app" and item["scopes"] == ["read", "write"]
    assert token not in listed.text
    # When another business's owner tries to revoke it
    other = await app_client.delete(
        f"/api/v1/businesses/bakery/apps/{item['id']}", headers=bearer(owner_token)
    )
    # Then it is 404; the admin's revoke works and signs the app out
    assert other.status_code == 404
    revoked = await app_client.delete(
        f"/api/v1/businesses/bakery/apps/{item['id']}", headers=admin_headers()
    )
    assert revoked.status_code == 204
    me = await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status_code == 401
    again = await app_client.delete(
        f"/api/v1/businesses/bakery/apps/{item['id']}", headers=admin_headers()
    )
    assert again.status_code == 404
