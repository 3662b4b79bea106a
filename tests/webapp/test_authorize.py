"""The consent page: signed in through the owner app, the app named, its scopes in words,
the business picked; refusals that never redirect to an address the app did not register."""

from __future__ import annotations

import pytest

from tests.conftest import create_business
from tests.mastodon.flow import REDIRECT, authorize_url, form_fields, register
from tests.webapp.kit import AppUser, admin_user, owner_of

pytestmark = pytest.mark.anyio


async def test_signed_out_the_page_sends_to_sign_in_and_back(app_client):
    app = await register(app_client)
    browser = AppUser(app_client)
    answer = await browser.get(authorize_url(app))
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/oauth/authorize%3F")


async def test_the_page_names_the_app_and_what_it_may_do(app_client):
    owner = await owner_of(app_client, "bakery")
    app = await register(app_client)
    page = await owner.get(authorize_url(app))
    assert page.status_code == 200
    assert "Phone app" in page.text
    assert "post, edit and delete as the business" in page.text
    assert 'value="bakery" checked' in page.text
    # The app's redirect target may end the form (browsers apply form-action to redirects)
    assert "form-action 'self' https://app.example" in page.headers["content-security-policy"]


async def test_the_admin_picks_which_business(app_client):
    await create_business(app_client, "bakery")
    await create_business(app_client, "butcher")
    admin = await admin_user(app_client)
    app = await register(app_client)
    page = await admin.get(authorize_url(app))
    assert 'value="bakery"' in page.text and 'value="butcher"' in page.text


async def test_an_owner_cannot_pick_another_business(app_client):
    owner = await owner_of(app_client, "bakery")
    await create_business(app_client, "butcher")
    app = await register(app_client)
    page = await owner.get(authorize_url(app))
    assert 'value="butcher"' not in page.text
    fields = form_fields(page.text)
    answer = await owner.submit(
        "/oauth/authorize", {**fields, "business": "butcher", "decision": "allow"}
    )
    assert answer.status_code == 404


async def test_denying_tells_the_app(app_client):
    owner = await owner_of(app_client, "bakery")
    app = await register(app_client)
    page = await owner.get(authorize_url(app, state="xyz"))
    answer = await owner.submit("/oauth/authorize", {**form_fields(page.text), "decision": "deny"})
    assert answer.status_code == 302
    assert answer.headers["location"] == f"{REDIRECT}?error=access_denied&state=xyz"


async def test_an_unregistered_redirect_uri_is_said_on_the_page_not_followed(app_client):
    owner = await owner_of(app_client, "bakery")
    app = await register(app_client)
    page = await owner.get(authorize_url(app, redirect_uri="https://evil.example/cb"))
    assert page.status_code == 400
    assert "did not register" in page.text
    assert "location" not in page.headers


async def test_an_unknown_client_is_said_on_the_page(app_client):
    owner = await owner_of(app_client, "bakery")
    page = await owner.get("/oauth/authorize?client_id=nope&response_type=code")
    assert page.status_code == 400 and "not registered" in page.text


async def test_a_scope_the_app_did_not_register_goes_back_as_invalid_scope(app_client):
    owner = await owner_of(app_client, "bakery")
    app = await register(app_client, scopes="read")
    answer = await owner.get(authorize_url(app, scope="read write"))
    assert answer.status_code == 302
    assert answer.headers["location"] == f"{REDIRECT}?error=invalid_scope"


async def test_plain_pkce_is_refused(app_client):
    owner = await owner_of(app_client, "bakery")
    app = await register(app_client)
    answer = await owner.get(
        authorize_url(app, code_challenge="a" * 43, code_challenge_method="plain")
    )
    assert answer.status_code == 302
    assert answer.headers["location"] == f"{REDIRECT}?error=invalid_request"
