"""The owner app's Apps page: which apps post as the business, and signing one out."""

from __future__ import annotations

import re

import pytest

from tests.mastodon.flow import bearer, business_with_token

pytestmark = pytest.mark.anyio


async def test_the_owner_sees_the_app_and_revokes_it(app_client):
    # Given an app signed in as the bakery by its owner
    owner, token = await business_with_token(app_client)
    # When the owner opens the Apps page
    page = await owner.get("/app/bakery/apps")
    assert page.status_code == 200
    assert "Phone app" in page.text and "read write" in page.text
    action = re.search(r'action="(/app/bakery/apps/\d+/revoke)"', page.text).group(1)
    # And revokes it
    answer = await owner.submit(action, follow=True)
    # Then the page says so and the app is signed out
    assert "The app is signed out." in answer.text
    assert "No app is signed in" in answer.text
    me = await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status_code == 401
