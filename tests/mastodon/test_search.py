"""Search and mention autocomplete: businesses here by name, handles and URLs elsewhere
resolved only when asked (resolve=true) and signed in."""

from __future__ import annotations

import pytest

from tests.mastodon.flow import bearer, business_with_token

pytestmark = pytest.mark.anyio


async def test_a_word_finds_businesses_here_by_the_start_of_their_name(app_client):
    _owner, token = await business_with_token(app_client, "bakery")
    await business_with_token(app_client, "bookshop")
    found = await app_client.get("/api/v2/search?q=ba&type=accounts", headers=bearer(token))
    assert [a["acct"] for a in found.json()["accounts"]] == ["bakery"]
    assert found.json()["statuses"] == [] and found.json()["hashtags"] == []
    typed = await app_client.get("/api/v1/accounts/search?q=@b&limit=5", headers=bearer(token))
    assert [a["acct"] for a in typed.json()] == ["bakery", "bookshop"]
    nothing = await app_client.get("/api/v1/accounts/search?q=%25", headers=bearer(token))
    assert nothing.json() == []


async def test_hashtags_used_here_and_own_urls_are_found(app_client):
    _owner, token = await business_with_token(app_client, "bakery")
    posted = await app_client.post(
        "/api/v1/statuses", json={"status": "Rye #Sourdough"}, headers=bearer(token)
    )
    tags = await app_client.get("/api/v2/search?q=%23sourdough&type=hashtags")
    assert [t["name"] for t in tags.json()["hashtags"]] == ["sourdough"]
    assert (await app_client.get("/api/v2/search?q=%23cake")).json()["hashtags"] == []
    by_url = await app_client.get("/api/v2/search", params={"q": posted.json()["url"]})
    assert [s["id"] for s in by_url.json()["statuses"]] == [posted.json()["id"]]
    by_uri = await app_client.get("/api/v2/search", params={"q": posted.json()["uri"]})
    assert [s["id"] for s in by_uri.json()["statuses"]] == [posted.json()["id"]]
    profile = await app_client.get("/api/v2/search", params={"q": posted.json()["account"]["url"]})
    assert [a["acct"] for a in profile.json()["accounts"]] == ["bakery"]


async def test_a_bad_type_is_422(app_client):
    answer = await app_client.get("/api/v2/search?q=x&type=posts")
    assert answer.status_code == 422 and "error" in answer.json()


async def test_a_handle_and_a_note_elsewhere_are_resolved_only_when_asked(live, peer):
    # Given an app signed in as the bakery, and alice's note on another server
    _owner, token = await business_with_token(live.client)
    headers = bearer(token)
    note = peer.add_note("alice", "<p>Best rye in town?</p>")
    # When it searches her handle without resolve, then with it
    handle = peer.handle("alice")
    quiet = await live.client.get("/api/v2/search", params={"q": handle}, headers=headers)
    anonymous = await live.client.get("/api/v2/search", params={"q": handle, "resolve": "true"})
    resolved = await live.client.get(
        "/api/v2/search", params={"q": handle, "resolve": "true"}, headers=headers
    )
    # Then only the signed-in, resolving search reached out and found her
    assert quiet.json()["accounts"] == [] and anonymous.json()["accounts"] == []
    [alice] = resolved.json()["accounts"]
    assert alice["acct"] == f"alice@{peer.host}" and alice["display_name"] == "Alice"
    # And her note's URL resolves to a status the app can answer
    found = await live.client.get(
        "/api/v2/search", params={"q": note["id"], "resolve": "true"}, headers=headers
    )
    [status] = found.json()["statuses"]
    assert status["content"] == "<p>Best rye in town?</p>"
    assert status["account"]["id"] == alice["id"]
    answer = await live.client.post(
        "/api/v1/statuses",
        json={"status": "Ours!", "in_reply_to_id": status["id"]},
        headers=headers,
    )
    assert answer.status_code == 200 and answer.json()["in_reply_to_id"] == status["id"]
    # And an unknown handle is simply not found
    missing = await live.client.get(
        "/api/v2/search", params={"q": f"@nobody@{peer.host}", "resolve": "true"}, headers=headers
    )
    assert missing.status_code == 200 and missing.json()["accounts"] == []
