"""A poll end to end: Mastodon.py posts a poll as a business on a live instance; a real
peer server, whose two accounts follow the business, receives the Question, votes the
way Mastodon does (a Create{Note} named after the option, replying to the Question), and
receives the new counts in an Update{Question}. Wrong votes are ignored. Both backends."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from mastodon import return_types

from tests.live import wait_until
from tests.mastodon.flow import SignedIn, entity_gaps
from tests.peer import AS_CONTEXT

pytestmark = pytest.mark.anyio


def vote(peer: Any, name: str, question: str, author: str, option: str) -> dict[str, Any]:
    """A vote as Mastodon's ``VoteSerializer`` writes it, from ``name`` on ``peer``."""
    voter = peer.actor(name).uri
    vote_id = f"{voter}#votes/{uuid.uuid4().int % 10**12}"
    return {
        "@context": AS_CONTEXT,
        "id": f"{vote_id}/activity",
        "type": "Create",
        "actor": voter,
        "to": author,
        "object": {
            "id": vote_id,
            "type": "Note",
            "name": option,
            "attributedTo": voter,
            "to": author,
            "inReplyTo": question,
        },
    }


async def test_a_poll_from_mastodon_py_is_voted_in_from_elsewhere(
    live: Any, peer: Any, bakery_app: SignedIn
) -> None:
    # Given an app signed in as the bakery, which alice and bob elsewhere follow
    api, call = bakery_app.api, bakery_app.call
    bakery = live.urls.actor("bakery")
    inbox = live.urls.inbox("bakery")
    for name in ("alice", "bob"):
        await peer.post(inbox, peer.follow(bakery, name), name=name)
    await peer.wait_for(lambda r: r.type == "Accept", count=2)

    # When it posts a poll
    poll = api.make_poll(["Rye", "Spelt", "Sourdough"], expires_in=3600)
    status = await call("status_post", "Which bread on Sunday?", poll=poll)
    # Then the followers' server receives a Question with the three options
    [create] = await peer.wait_for(lambda r: r.type == "Create")
    question = create.json["object"]
    assert question["type"] == "Question" and question["id"] == status.uri
    assert [o["name"] for o in question["oneOf"]] == ["Rye", "Spelt", "Sourdough"]
    assert entity_gaps(return_types.Poll, status.poll) == []

    # When alice votes Rye and bob Spelt, and alice also tries a second vote, a vote for
    # an option the poll does not have, and the same vote again
    first = vote(peer, "alice", status.uri, bakery, "Rye")
    for name, activity in (
        ("alice", first),
        ("bob", vote(peer, "bob", status.uri, bakery, "Spelt")),
        ("alice", vote(peer, "alice", status.uri, bakery, "Sourdough")),
        ("alice", vote(peer, "alice", status.uri, bakery, "<b>Rye</b> or cake")),
        ("alice", first),
    ):
        answer = await peer.post(inbox, activity, name=name)
        assert answer.status_code == 202, answer.text

    async def counted() -> Any:
        found = await call("poll", status.poll.id)
        return found if found.voters_count == 2 else None

    # Then the app sees one vote each for Rye and Spelt, from two voters
    seen = await wait_until(counted, timeout=15)
    assert [o.votes_count for o in seen.options] == [1, 1, 0]
    assert seen.votes_count == 2
    # And the followers' server is sent the new counts in an Update of the Question
    [update] = await peer.wait_for(lambda r: r.type == "Update", timeout=20)
    sent = update.json["object"]
    assert sent["type"] == "Question" and sent["id"] == status.uri
    assert sum(o["replies"]["totalItems"] for o in sent["oneOf"]) >= 1
    # And the votes are no mentions: nothing new in the notifications but the follows
    notifications = await call("notifications")
    assert {n.type for n in notifications} == {"follow"}
    # And the status read again carries the counts
    again = await call("status", status.id)
    assert [o.votes_count for o in again.poll.options] == [1, 1, 0]


async def test_mastodon_py_votes_in_a_poll_from_elsewhere(
    live: Any, peer: Any, bakery_app: SignedIn
) -> None:
    # Given alice elsewhere asks the bakery in a poll
    call, token = bakery_app.call, bakery_app.token
    bakery = live.urls.actor("bakery")
    alice = peer.actor("alice").uri
    question = peer.add_note(
        "alice",
        "<p>@bakery which one?</p>",
        type="Question",
        cc=[f"{alice}/followers", bakery],
        endTime="2099-01-01T00:00:00Z",
        votersCount=3,
        oneOf=[
            {"type": "Note", "name": "Plain", "replies": {"type": "Collection", "totalItems": 2}},
            {"type": "Note", "name": "Almond", "replies": {"type": "Collection", "totalItems": 1}},
        ],
        tag=[{"type": "Mention", "href": bakery, "name": "@bakery"}],
    )
    body = {k: v for k, v in question.items() if k != "@context"}
    create = {
        "@context": AS_CONTEXT,
        "id": f"{question['id']}/activity",
        "type": "Create",
        "actor": alice,
        "to": question["to"],
        "cc": question["cc"],
        "object": body,
    }
    await peer.post(live.urls.inbox("bakery"), create)

    async def mentioned() -> Any:
        found = await call("notifications", types=["mention"])
        return found[0] if found else None

    # When the app finds it in its notifications and votes Almond
    notification = await wait_until(mentioned, timeout=15)
    shown = notification.status.poll
    assert [(o.title, o.votes_count) for o in shown.options] == [("Plain", 2), ("Almond", 1)]
    assert shown.voted is False
    voted = await call("poll_vote", shown.id, [1])
    # Then the poll shows the business's vote and the raised count
    assert voted.voted is True and voted.own_votes == [1]
    assert [o.votes_count for o in voted.options] == [2, 2]
    # And alice's server receives the vote as Mastodon sends it
    [received] = await peer.wait_for(
        lambda r: r.type == "Create" and r.json["object"].get("name") is not None
    )
    assert received.json["object"]["name"] == "Almond"
    assert received.json["object"]["inReplyTo"] == question["id"]
    assert received.json["object"]["to"] == alice
    # And a second vote is refused
    refused = await live.client.post(
        f"/api/v1/polls/{shown.id}/votes",
        json={"choices": [0]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 422
