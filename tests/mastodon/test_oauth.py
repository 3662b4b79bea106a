"""OAuth as Mastodon apps use it: registration, the code flow with PKCE, client
credentials, revocation, metadata, and each refusal in the shape apps expect."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fedi_town.mastodon.oauth import s256, valid_redirect_uri
from tests.mastodon.flow import (
    REDIRECT,
    authorize_url,
    bearer,
    code_from,
    consent,
    exchange,
    pkce,
    register,
)
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio


def test_s256_is_the_unpadded_base64url_sha256_of_the_verifier():
    verifier, challenge = pkce()
    assert s256(verifier) == challenge
    assert "=" not in s256("x") and len(s256("x")) == 43


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("urn:ietf:wg:oauth:2.0:oob", True),
        ("https://elk.zone/oauth/callback", True),
        ("tusky://oauth", True),
        ("io.ivory:/oauth", True),
        ("javascript:alert(1)", False),
        ("data:text/html,hi", False),
        ("https://app.example/cb#frag", False),
        ("/relative", False),
        ("https:///nohost", False),
    ],
)
def test_redirect_uris_are_absolute_without_fragment_or_script(uri, ok):
    assert valid_redirect_uri(uri) is ok


async def test_registering_an_app_answers_its_credentials(app_client):
    app = await register(app_client, scopes="read write:statuses")
    assert app["name"] == "Phone app"
    assert app["redirect_uris"] == [REDIRECT]
    assert app["scopes"] == ["read", "write:statuses"]
    assert app["client_id"] and app["client_secret"]


@pytest.mark.parametrize(
    "body",
    [
        {"client_name": "", "redirect_uris": REDIRECT},
        {"client_name": "x", "redirect_uris": "javascript:alert(1)"},
        {"client_name": "x", "redirect_uris": REDIRECT, "scopes": "read admin:read"},
        {"client_name": "x", "redirect_uris": REDIRECT, "website": "ftp://x"},
    ],
)
async def test_a_bad_registration_is_422_in_mastodons_shape(app_client, body):
    response = await app_client.post("/api/v1/apps", data=body)
    assert response.status_code == 422
    assert response.json()["error"].startswith("Validation failed")


async def test_json_registration_with_a_list_of_redirect_uris_works(app_client):
    response = await app_client.post(
        "/api/v1/apps",
        json={"client_name": "Elk", "redirect_uris": [REDIRECT, "elk://cb"], "scopes": "read"},
    )
    assert response.status_code == 200
    assert response.json()["redirect_uris"] == [REDIRECT, "elk://cb"]


async def test_the_metadata_names_the_endpoints_and_s256(app_client):
    response = await app_client.get("/.well-known/oauth-authorization-server")
    data = response.json()
    assert data["token_endpoint"].endswith("/oauth/token")
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert "write:statuses" in data["scopes_supported"]


async def test_a_public_client_with_pkce_gets_a_token_without_a_secret(app_client):
    # Given an owner allowing an app that sent a PKCE challenge
    owner = await owner_of(app_client, "bakery")
    app = await register(app_client)
    verifier, challenge = pkce()
    url = authorize_url(app, code_challenge=challenge, code_challenge_method="S256", state="s1")
    answer = await consent(owner, url)
    assert "state=s1" in answer.headers["location"]
    # When it swaps the code with the verifier and no secret
    response = await app_client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": app["client_id"],
            "redirect_uri": REDIRECT,
            "code": code_from(answer),
            "code_verifier": verifier,
        },
    )
    # Then it has a token of the business
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["token_type"] == "Bearer" and data["scope"] == "read write"
    me = await app_client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer(data["access_token"])
    )
    assert me.json()["username"] == "bakery"


async def test_a_wrong_pkce_verifier_is_invalid_grant(app_client):
    owner = await owner_of(app_client, "bakery")
    app = await register(app_client)
    _verifier, challenge = pkce()
    code = code_from(await consent(owner, authorize_url(app, code_challenge=challenge)))
    response = await exchange(app_client, app, code, code_verifier="x" * 50)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


async def test_a_code_works_once(app_client):
    owner = await owner_of(app_client, "bakery")
    app = await register(app_client)
    code = code_from(await consent(owner, authorize_url(app)))
    assert (await exchange(app_client, app, code)).status_code == 200
    again = await exchange(app_client, app, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


async def test_a_code_expires_after_ten_minutes(clocked_client, clock):
    owner = await owner_of(clocked_client, "bakery")
    app = await register(clocked_client)
    code = code_from(await consent(owner, authorize_url(app)))
    clock.advance(timedelta(minutes=11))
    response = await exchange(clocked_client, app, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_a_code_needs_the_same_redirect_uri(app_client):
    owner = await owner_of(app_client, "bakery")
    app = await register(app_client)
    code = code_from(await consent(owner, authorize_url(app)))
    response = await exchange(app_client, app, code, redirect_uri="https://evil.example/cb")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_another_apps_code_or_a_wrong_secret_is_refused(app_client):
    owner = await owner_of(app_client, "bakery")
    app, other = await register(app_client), await register(app_client)
    code = code_from(await consent(owner, authorize_url(app)))
    stolen = await exchange(app_client, other, code)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    wrong = await exchange(app_client, {**app, "client_secret": "nope"}, code)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


async def test_without_pkce_the_secret_is_required(app_client):
    owner = await owner_of(app_client, "bakery")
    app = await register(app_client)
    code = code_from(await consent(owner, authorize_url(app)))
    response = await app_client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": app["client_id"],
            "redirect_uri": REDIRECT,
            "code": code,
        },
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


async def test_client_credentials_give_an_app_token_that_acts_as_nobody(app_client):
    app = await register(app_client)
    response = await app_client.post(
        "/oauth/token",
        auth=(app["client_id"], app["client_secret"]),
        data={"grant_type": "client_credentials", "scope": "read"},
    )
    token = response.json()["access_token"]
    verified = await app_client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
    assert verified.json()["name"] == "Phone app"
    me = await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status_code == 422
    assert me.json() == {"error": "This method requires an authenticated user"}


async def test_client_credentials_cannot_ask_more_than_the_app_registered(app_client):
    app = await register(app_client, scopes="read")
    response = await app_client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "write",
        },
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


async def test_an_unknown_grant_type_is_refused(app_client):
    response = await app_client.post("/oauth/token", data={"grant_type": "password"})
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


async def test_a_revoked_token_is_401(app_client):
    owner = await owner_of(app_client, "bakery")
    app = await register(app_client)
    token = (
        await exchange(app_client, app, code_from(await consent(owner, authorize_url(app))))
    ).json()["access_token"]
    revoked = await app_client.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
    )
    assert revoked.status_code == 200 and revoked.json() == {}
    me = await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status_code == 401
    assert me.json() == {"error": "The access token is invalid"}


async def test_one_address_may_register_only_so_many_apps(app_client):
    from fedi_town.mastodon.oauth import MAX_APPS

    for _ in range(MAX_APPS):
        await register(app_client)
    response = await app_client.post(
        "/api/v1/apps", data={"client_name": "x", "redirect_uris": REDIRECT}
    )
    assert response.status_code == 429
    assert response.json() == {"error": "Too many requests"}
    assert int(response.headers["retry-after"]) > 0
