"""Direct conversations end to end: a real peer's account writes a direct message to a
business on a live instance; Mastodon.py sees it as an unread conversation, marks it
read, answers it directly (the answer reaches the peer), sees it unread again when the
peer answers back, hides it, and sees it back with the next message. Both backends."""

from __future__ import annotations

from typing import Any

import pytest
from mastodon import return_types

from tests.live import wait_until
from tests.mastodon.flow import SignedIn, bearer, business_with_token, entity_gaps
from tests.peer import AS_CONTEXT

pytestmark = pytest.mark.anyio


def direct(peer: Any, bakery: str, content: str, in_reply_to: str | None = None) -> dict[str, Any]:
    """Create{Note} addressed to the bakery only, mentioning it: Mastodon's direct message."""
    note = peer.add_note(
        "alice",
        content,
        in_reply_to=in_reply_to,
        to=[bakery],
        cc=[],
        tag=[{"type": "Mention", "href": bakery, "name": "@bakery"}],
    )
    body = {k: v for k, v in note.items() if k != "@context"}
    return {
        "@context": AS_CONTEXT,
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": note["attributedTo"],
        "to": [bakery],
        "cc": [],
        "object": body,
    }


async def test_a_direct_conversation_is_read_answered_hidden_and_back(
    live: Any, peer: Any, bakery_app: SignedIn
) -> None:
    # Given an app signed in as the bakery
    call, token = bakery_app.call, bakery_app.token
    bakery = live.urls.actor("bakery")
    inbox = live.urls.inbox("bakery")

    async def conversations(count: int = 1) -> Any:
        found = await call("conversations")
        return found if len(found) == count else None

    # When alice writes to it directly
    first = direct(peer, bakery, "<p>@bakery do you have gluten-free bread?</p>")
    assert (await peer.post(inbox, first)).status_code == 202
    # Then it is one unread conversation with alice, its last status her message
    [conversation] = await wait_until(conversations, timeout=15)
    assert conversation.unread is True
    assert [a.acct for a in conversation.accounts] == [f"alice@{peer.host}"]
    assert conversation.last_status.uri == first["object"]["id"]
    assert conversation.last_status.visibility == "direct"
    assert entity_gaps(return_types.Conversation, conversation) == []
    # When the app marks it read
    read = await call("conversations_read", conversation.id)
    assert read.unread is False and read.id == conversation.id
    # And answers directly
    answer = await call(
        "status_post",
        "@alice@" + peer.host + " yes, on Fridays",
        in_reply_to_id=conversation.last_status.id,
        visibility="direct",
    )
    [sent] = await peer.wait_for(lambda r: r.type == "Create")
    assert sent.json["object"]["id"] == answer.uri
    # Then the conversation is the same one, its last status the answer, still read
    [after] = await call("conversations")
    assert after.id == conversation.id and after.last_status.id == answer.id
    assert after.unread is False
    # When alice answers back, it is unread again
    back = direct(peer, bakery, "<p>@bakery great, thanks</p>", in_reply_to=answer.uri)
    await peer.post(inbox, back)

    async def unread() -> Any:
        [found] = await call("conversations")
        return found if found.unread else None

    again = await wait_until(unread, timeout=15)
    assert again.id == conversation.id and again.last_status.uri == back["object"]["id"]
    # When the app deletes the conversation, it is gone from the list
    hidden = await live.client.delete(
        f"/api/v1/conversations/{conversation.id}", headers=bearer(token)
    )
    assert hidden.status_code == 200 and hidden.json() == {}
    assert await call("conversations") == []
    # And a new message in the thread brings it back
    more = direct(peer, bakery, "<p>@bakery one more thing</p>", in_reply_to=back["object"]["id"])
    await peer.post(inbox, more)
    [returned] = await wait_until(conversations, timeout=15)
    assert returned.id == conversation.id and returned.unread is True


async def test_conversations_need_scopes_and_known_ids(live: Any) -> None:
    _owner, token = await business_with_token(live.client, scopes="read")
    empty = await live.client.get("/api/v1/conversations", headers=bearer(token))
    assert empty.status_code == 200 and empty.json() == []
    forbidden = await live.client.post("/api/v1/conversations/1/read", headers=bearer(token))
    assert forbidden.status_code == 403
    _florist, writer = await business_with_token(live.client, "florist")
    missing = await live.client.post("/api/v1/conversations/1/read", headers=bearer(writer))
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}
    unsigned = await live.client.get("/api/v1/conversations")
    assert unsigned.status_code == 401
