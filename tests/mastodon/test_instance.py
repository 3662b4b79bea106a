"""What apps ask at start: the instance, the account, preferences, the empty lists."""

from __future__ import annotations

import pytest

from tests.mastodon.flow import bearer, business_with_token

pytestmark = pytest.mark.anyio


async def test_the_instance_says_it_speaks_mastodon_4_4(app_client):
    v2 = (await app_client.get("/api/v2/instance")).json()
    v1 = (await app_client.get("/api/v1/instance")).json()
    assert v2["version"].startswith("4.4.0 (compatible; fedi-town")
    assert v2["configuration"]["statuses"]["max_media_attachments"] == 4
    assert v2["registrations"]["enabled"] is False
    assert v1["uri"] == v2["domain"]


async def test_a_profile_token_reads_only_its_account(app_client):
    _owner, token = await business_with_token(app_client, scopes="profile")
    me = await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["source"]["privacy"] == "public"
    notes = await app_client.get("/api/v1/notifications", headers=bearer(token))
    assert notes.status_code == 403


async def test_accounts_are_found_by_id_and_by_acct(app_client):
    _owner, token = await business_with_token(app_client)
    me = (await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))).json()
    by_id = await app_client.get(f"/api/v1/accounts/{me['id']}")
    assert by_id.json()["acct"] == "bakery" and "source" not in by_id.json()
    by_acct = await app_client.get("/api/v1/accounts/lookup?acct=bakery")
    assert by_acct.json()["id"] == me["id"]
    elsewhere = await app_client.get("/api/v1/accounts/lookup?acct=bakery@other.example")
    assert elsewhere.status_code == 404 and elsewhere.json() == {"error": "Record not found"}
    assert (await app_client.get("/api/v1/accounts/12345")).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/lists",
        "/api/v1/filters",
        "/api/v2/filters",
        "/api/v1/announcements",
        "/api/v1/trends/tags",
        "/api/v1/custom_emojis",
        "/api/v1/followed_tags",
    ],
)
async def test_what_fedi_town_does_not_have_is_an_empty_list(app_client, path):
    _owner, token = await business_with_token(app_client)
    response = await app_client.get(path, headers=bearer(token))
    assert response.status_code == 200 and response.json() == []


async def test_preferences_and_markers_answer(app_client):
    _owner, token = await business_with_token(app_client)
    prefs = await app_client.get("/api/v1/preferences", headers=bearer(token))
    assert prefs.json()["posting:default:visibility"] == "public"
    markers = await app_client.get("/api/v1/markers?timeline[]=home", headers=bearer(token))
    assert markers.json() == {}
