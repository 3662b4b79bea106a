"""Tokens of the Mastodon client API: 401 without a good one, 403 outside its scopes, and
one business's token never reaching another."""

from __future__ import annotations

import pytest

from fedi_town.api.auth import hash_token
from fedi_town.errors import TooManyRequests, Unprocessable
from fedi_town.mastodon.auth import problem_as_error
from tests.conftest import admin_headers, create_business
from tests.mastodon.flow import bearer, business_with_token, token_for
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio


async def test_no_token_or_a_made_up_one_is_401_in_mastodons_shape(app_client):
    missing = await app_client.get("/api/v1/accounts/verify_credentials")
    made_up = await app_client.get(
        "/api/v1/accounts/verify_credentials", headers=bearer("ftmasto_nope")
    )
    for response in (missing, made_up):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"error": "The access token is invalid"}


async def test_a_read_token_cannot_post(app_client):
    _owner, token = await business_with_token(app_client, scopes="read")
    response = await app_client.post(
        "/api/v1/statuses", json={"status": "Hi"}, headers=bearer(token)
    )
    assert response.status_code == 403
    assert response.json() == {"error": "This action is outside the authorized scopes"}


async def test_a_token_stops_working_when_its_business_is_deleted(app_client):
    _owner, token = await business_with_token(app_client)
    deleted = await app_client.delete("/api/v1/businesses/bakery", headers=admin_headers())
    assert deleted.status_code == 204
    me = await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status_code == 401


async def test_only_the_hash_of_a_token_is_stored(app_client):
    _owner, token = await business_with_token(app_client)
    store = app_client.services.store
    rows = await store.fetch_all("SELECT token_hash FROM oauth_tokens")
    assert [r["token_hash"] for r in rows] == [hash_token(token)]


async def test_a_token_of_one_business_never_reaches_another(app_client):
    # Given two businesses, each with an app signed in, and a public and a followers-only
    # post of the second
    _a, token_a = await business_with_token(app_client, "bakery")
    _b, token_b = await business_with_token(app_client, "butcher")
    public, private = [
        (
            await app_client.post(
                "/api/v1/statuses",
                json={"status": text, "visibility": visibility},
                headers=bearer(token_b),
            )
        ).json()["id"]
        for text, visibility in (("Sausages", "public"), ("Staff only", "private"))
    ]
    # When the bakery's token reads, edits or deletes them
    path = f"/api/v1/statuses/{public}"
    read = await app_client.get(path, headers=bearer(token_a))
    hidden = await app_client.get(f"/api/v1/statuses/{private}", headers=bearer(token_a))
    edit = await app_client.put(path, json={"status": "Mine"}, headers=bearer(token_a))
    gone = await app_client.delete(path, headers=bearer(token_a))
    # Then the public post reads as any public post does (as on Mastodon), the other is 404,
    # and editing or deleting another business's post is 404, as for one that does not exist
    assert read.status_code == 200 and read.json()["account"]["username"] == "butcher"
    for response in (hidden, edit, gone):
        assert response.status_code == 404
        assert response.json() == {"error": "Record not found"}
    # And the butcher's post is untouched
    mine = await app_client.get(path, headers=bearer(token_b))
    assert mine.json()["content"] == "<p>Sausages</p>"


def test_validation_errors_name_their_fields():
    error = Unprocessable("bad", errors=[{"pointer": "/content", "message": "too long"}])
    response = problem_as_error(error)
    assert response.status_code == 422
    assert response.body == b'{"error":"Validation failed: content too long"}'


def test_a_rate_limit_keeps_its_retry_after():
    response = problem_as_error(TooManyRequests("slow down", retry_after=7))
    assert response.status_code == 429 and response.headers["retry-after"] == "7"


async def test_removing_a_person_signs_out_the_apps_they_let_in(app_client):
    # Given a member of staff who let an app in as the bakery
    await create_business(app_client, "bakery")
    staff = await owner_of(app_client, "bakery", login="sam", role="staff", create=False)
    token = await token_for(app_client, staff)
    me = await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status_code == 200
    # When the business removes them
    people = await app_client.get("/api/v1/businesses/bakery/people", headers=admin_headers())
    [sam] = [p for p in people.json()["people"] if p["login"] == "sam"]
    removed = await app_client.delete(
        f"/api/v1/businesses/bakery/people/{sam['id']}", headers=admin_headers()
    )
    assert removed.status_code == 204
    # Then the app's token no longer works
    me = await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status_code == 401
