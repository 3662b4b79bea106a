"""A status's thread from stored posts and received replies."""

from __future__ import annotations

import pytest

from fedi_town.store import actors, social
from fedi_town.store.actors import ActorProfile
from fedi_town.store.db import now_ms
from fedi_town.store.social import NoteContent
from tests.mastodon.flow import bearer, business_with_token

pytestmark = pytest.mark.anyio


async def a_reply(store, in_reply_to: str, name: str, visibility: str = "public") -> str:
    """A note by ``name``@m.example answering ``in_reply_to``; its URI."""
    actor = await actors.upsert(
        store,
        ActorProfile(
            uri=f"https://m.example/users/{name}",
            type="Person",
            inbox=f"https://m.example/users/{name}/inbox",
            username=name,
        ),
        replace_keys=False,
        now=now_ms(),
    )
    uri = f"https://m.example/notes/{name}"
    content = NoteContent(in_reply_to, f"<p>{name}</p>", None, None, visibility, now_ms(), {})
    await social.insert_note(store, uri=uri, actor_id=actor.id, content=content, now=now_ms())
    return uri


async def test_a_thread_has_its_ancestors_and_its_replies_depth_first(app_client):
    # Given a post, the business's own answer to it, and a customer's reply to the answer
    _owner, token = await business_with_token(app_client)
    headers = bearer(token)
    first = (
        await app_client.post("/api/v1/statuses", json={"status": "Rye"}, headers=headers)
    ).json()
    second = (
        await app_client.post(
            "/api/v1/statuses",
            json={"status": "And spelt", "in_reply_to_id": first["id"]},
            headers=headers,
        )
    ).json()
    await a_reply(app_client.services.store, second["uri"], "jo")
    await a_reply(app_client.services.store, second["uri"], "secret", visibility="direct")
    # When the thread is read from the middle, and from the top
    middle = await app_client.get(f"/api/v1/statuses/{second['id']}/context", headers=headers)
    top = await app_client.get(f"/api/v1/statuses/{first['id']}/context")
    # Then the middle's ancestor is the first post and its reply is jo's (the direct note,
    # which never reached the business, is not shown)
    assert [s["id"] for s in middle.json()["ancestors"]] == [first["id"]]
    [jo] = middle.json()["descendants"]
    assert jo["account"]["acct"] == "jo@m.example" and jo["in_reply_to_id"] == second["id"]
    # And from the top, without a token, the answer then jo's reply
    assert [s["id"] for s in top.json()["descendants"]] == [second["id"], jo["id"]]


async def test_the_thread_of_an_unknown_status_is_404(app_client):
    _owner, token = await business_with_token(app_client)
    answer = await app_client.get("/api/v1/statuses/12345/context", headers=bearer(token))
    assert answer.status_code == 404 and answer.json() == {"error": "Record not found"}


async def test_an_account_elsewhere_opens_with_its_stored_public_notes(app_client):
    _owner, token = await business_with_token(app_client)
    first = (
        await app_client.post("/api/v1/statuses", json={"status": "Rye"}, headers=bearer(token))
    ).json()
    await a_reply(app_client.services.store, first["uri"], "jo")
    thread = await app_client.get(f"/api/v1/statuses/{first['id']}/context")
    [jo] = thread.json()["descendants"]
    account = await app_client.get(f"/api/v1/accounts/{jo['account']['id']}")
    assert account.json()["acct"] == "jo@m.example"
    notes = await app_client.get(f"/api/v1/accounts/{jo['account']['id']}/statuses")
    assert [s["id"] for s in notes.json()] == [jo["id"]]
    assert (await app_client.get("/api/v1/accounts/77/statuses")).status_code == 404
