"""Posting from a Mastodon app through the admin API's commands."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mastodon import Mastodon, return_types

from tests.mastodon.flow import bearer, business_with_token, entity_gaps

pytestmark = pytest.mark.anyio


async def test_a_form_post_with_a_content_warning_and_followers_only(app_client):
    _owner, token = await business_with_token(app_client)
    response = await app_client.post(
        "/api/v1/statuses",
        data={"status": "Staff party", "spoiler_text": "Closed early", "visibility": "private"},
        headers=bearer(token),
    )
    assert response.status_code == 200, response.text
    status = response.json()
    assert status["visibility"] == "private"
    assert status["spoiler_text"] == "Closed early" and status["sensitive"] is True
    assert status["account"]["acct"] == "bakery"
    admin_view = await app_client.get(f"/api/v1/statuses/{status['id']}", headers=bearer(token))
    assert admin_view.json()["id"] == status["id"]


async def test_an_idempotency_key_makes_a_retry_answer_the_same_post(app_client):
    _owner, token = await business_with_token(app_client)
    headers = {**bearer(token), "Idempotency-Key": "abc"}
    first = await app_client.post("/api/v1/statuses", json={"status": "Once"}, headers=headers)
    again = await app_client.post("/api/v1/statuses", json={"status": "Once"}, headers=headers)
    assert first.json()["id"] == again.json()["id"]
    listed = await app_client.get(
        f"/api/v1/accounts/{first.json()['account']['id']}/statuses", headers=bearer(token)
    )
    assert [s["id"] for s in listed.json()] == [first.json()["id"]]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"status": "  "}, "Text can't be blank"),
        ({"status": "x", "visibility": "secret"}, "Visibility"),
        ({"status": "x", "poll": {"options": ["a", "b"], "expires_in": 60}}, "300"),
        ({"status": "x", "scheduled_at": "2001-01-01T00:00:00Z"}, "scheduled_at"),
        ({"status": "x" * 5001}, "content"),
        ({"status": "x", "media_ids": ["123"]}, "media_ids"),
    ],
)
async def test_bad_statuses_are_422_saying_why(app_client, body, words):
    _owner, token = await business_with_token(app_client)
    response = await app_client.post("/api/v1/statuses", json=body, headers=bearer(token))
    assert response.status_code == 422, response.text
    assert words in response.json()["error"]


async def test_replying_to_an_unknown_status_is_404(app_client):
    _owner, token = await business_with_token(app_client)
    response = await app_client.post(
        "/api/v1/statuses", json={"status": "x", "in_reply_to_id": "999"}, headers=bearer(token)
    )
    assert response.status_code == 404


async def test_replying_to_our_own_post_threads_it(app_client):
    _owner, token = await business_with_token(app_client)
    first = (
        await app_client.post("/api/v1/statuses", json={"status": "One"}, headers=bearer(token))
    ).json()
    reply = await app_client.post(
        "/api/v1/statuses",
        json={"status": "Two", "in_reply_to_id": first["id"]},
        headers=bearer(token),
    )
    assert reply.status_code == 200
    assert reply.json()["in_reply_to_id"] == first["id"]


async def test_edit_source_context_and_delete_with_text_for_redraft(app_client):
    _owner, token = await business_with_token(app_client)
    posted = await app_client.post(
        "/api/v1/statuses", json={"status": "Bred"}, headers=bearer(token)
    )
    path = f"/api/v1/statuses/{posted.json()['id']}"
    edited = await app_client.put(path, json={"status": "Bread"}, headers=bearer(token))
    assert edited.json()["content"] == "<p>Bread</p>" and edited.json()["edited_at"]
    source = await app_client.get(f"{path}/source", headers=bearer(token))
    assert source.json()["text"] == "Bread"
    context = await app_client.get(f"{path}/context", headers=bearer(token))
    assert context.json() == {"ancestors": [], "descendants": []}
    deleted = await app_client.delete(path, headers=bearer(token))
    assert deleted.status_code == 200 and deleted.json()["text"] == "Bread"
    assert (await app_client.get(path, headers=bearer(token))).status_code == 404


async def test_anyone_sees_only_public_and_unlisted_posts_of_an_account(app_client):
    _owner, token = await business_with_token(app_client)
    for text, visibility in (("Open", "public"), ("Staff", "private")):
        await app_client.post(
            "/api/v1/statuses",
            json={"status": text, "visibility": visibility},
            headers=bearer(token),
        )
    me = (await app_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))).json()
    public = await app_client.get(f"/api/v1/accounts/{me['id']}/statuses")
    own = await app_client.get(f"/api/v1/accounts/{me['id']}/statuses", headers=bearer(token))
    assert [s["content"] for s in public.json()] == ["<p>Open</p>"]
    assert len(own.json()) == 2


async def test_an_app_answers_a_customers_reply_and_the_answer_reaches_them(live, peer):
    # Given an app signed in as the bakery, and a post of it
    _owner, token = await business_with_token(live.client)
    headers = bearer(token)
    post = (
        await live.client.post("/api/v1/statuses", json={"status": "Rye today"}, headers=headers)
    ).json()
    # When alice elsewhere replies to it
    reply = peer.reply(post["uri"], live.urls.actor("bakery"), "<p>Until when?</p>")
    await peer.post(live.urls.inbox("bakery"), reply)

    async def mention() -> list:
        found = await live.client.get("/api/v1/notifications?types[]=mention", headers=headers)
        return found.json()

    from tests.live import wait_until

    [notification] = await wait_until(mention)
    # Then the app sees it as a mention whose status replies to the post
    note = notification["status"]
    assert note["uri"] == reply["object"]["id"]
    assert notification["account"]["acct"] == f"alice@{peer.host}"
    opened = await live.client.get(f"/api/v1/statuses/{note['id']}", headers=headers)
    assert opened.json()["content"] == "<p>Until when?</p>"
    # When the app answers it
    answer = await live.client.post(
        "/api/v1/statuses",
        json={"status": "Until six!", "in_reply_to_id": note["id"]},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["in_reply_to_id"] == note["id"]
    # Then alice's server receives the answer, in reply to her note, and reading it back
    # threads it the same way
    [create] = await peer.wait_for(
        lambda r: r.type == "Create" and r.json["object"].get("inReplyTo") == note["uri"]
    )
    assert "Until six!" in create.json["object"]["content"]
    again = await live.client.get(f"/api/v1/statuses/{answer.json()['id']}", headers=headers)
    assert again.json()["in_reply_to_id"] == note["id"]
    assert again.json()["in_reply_to_account_id"] == notification["account"]["id"]
    # And the thread reads the same from either end
    thread = await live.client.get(f"/api/v1/statuses/{note['id']}/context", headers=headers)
    assert [s["id"] for s in thread.json()["ancestors"]] == [post["id"]]
    assert [s["id"] for s in thread.json()["descendants"]] == [answer.json()["id"]]


async def test_a_post_can_be_pinned_and_unpinned(app_client):
    _owner, token = await business_with_token(app_client)
    posted = await app_client.post(
        "/api/v1/statuses", json={"status": "Our opening hours"}, headers=bearer(token)
    )
    path = f"/api/v1/statuses/{posted.json()['id']}"
    pinned = await app_client.post(f"{path}/pin", headers=bearer(token))
    assert pinned.status_code == 200 and pinned.json()["pinned"] is True
    unpinned = await app_client.post(f"{path}/unpin", headers=bearer(token))
    assert unpinned.json()["pinned"] is False


async def test_without_a_token_only_public_posts_are_read(app_client):
    _owner, token = await business_with_token(app_client)
    public, private = [
        (
            await app_client.post(
                "/api/v1/statuses",
                json={"status": text, "visibility": visibility},
                headers=bearer(token),
            )
        ).json()
        for text, visibility in (("Open", "public"), ("Staff", "private"))
    ]
    seen = await app_client.get(f"/api/v1/statuses/{public['id']}")
    assert seen.status_code == 200 and seen.json()["account"]["acct"] == "bakery"
    hidden = await app_client.get(f"/api/v1/statuses/{private['id']}")
    assert hidden.status_code == 404


async def test_quote_approval_follows_the_posts_quote_policy(live):
    # Given the bakery's and the florist's apps on Mastodon.py
    _owner, token = await business_with_token(live.client)
    _other, florist_token = await business_with_token(live.client, "florist")

    def app(access_token: str) -> Any:
        api = Mastodon(access_token=access_token, api_base_url=live.base_url)
        return lambda method, *a, **k: anyio.to_thread.run_sync(
            lambda: getattr(api, method)(*a, **k)
        )

    bakery = await anyio.to_thread.run_sync(lambda: app(token))
    florist = await anyio.to_thread.run_sync(lambda: app(florist_token))
    # When the bakery posts for anyone to quote (the default), for followers, and for nobody
    anyone = await bakery("status_post", "Quote us")
    followers = await bakery("status_post", "Regulars may quote", quote_approval_policy="followers")
    nobody = await bakery("status_post", "Not this one", quote_approval_policy="nobody")
    # Then each says so in Mastodon 4.5's QuoteApproval; the bakery itself may quote them all
    assert anyone.quote_approval == {
        "automatic": ["public"],
        "manual": [],
        "current_user": "automatic",
    }
    assert followers.quote_approval.automatic == ["followers"]
    assert nobody.quote_approval.automatic == [] and nobody.quote_approval.manual == []
    assert nobody.quote_approval.current_user == "automatic"
    assert entity_gaps(return_types.QuoteApproval, anyone.quote_approval) == []
    # And the florist may quote the first only; without a token, none
    seen = {s.id: s.quote_approval.current_user for s in await florist("timeline_local")}
    assert seen[anyone.id] == "automatic" and seen[nobody.id] == "denied"
    assert seen[followers.id] == "denied"
    unsigned = await live.client.get(f"/api/v1/statuses/{anyone.id}")
    assert unsigned.json()["quote_approval"]["current_user"] == "denied"
    # When the bakery edits the last to ask first (nobody → public)
    edited = await bakery("status_update", nobody.id, "Now you may", quote_approval_policy="public")
    assert edited.quote_approval.automatic == ["public"]
    # And a policy Mastodon does not know is 422 with Mastodon's error JSON
    bad = await live.client.post(
        "/api/v1/statuses",
        data={"status": "x", "quote_approval_policy": "friends"},
        headers=bearer(token),
    )
    assert bad.status_code == 422 and "error" in bad.json()
