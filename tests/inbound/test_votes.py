"""Votes from elsewhere on a business's poll (inbound/votes.py): counted once per voter
and option; an unknown option, a vote after the close, a second vote in a one-choice
poll and a redelivery are ignored; a named note on a post without a poll stays a reply.
Both backends."""

from __future__ import annotations

from typing import Any

import pytest

from fedi_town.store import polls
from fedi_town.store.db import now_ms
from tests.inbound.helpers import add_post, add_remote_actor, handle, notification_types

pytestmark = pytest.mark.anyio

ALICE = "https://m.example/users/alice"
BOB = "https://m.example/users/bob"


def vote(voter: str, question: str, option: str, n: int = 1) -> dict[str, Any]:
    vote_id = f"{voter}#votes/{n}"
    return {
        "id": f"{vote_id}/activity",
        "type": "Create",
        "actor": voter,
        "to": "https://town.example/users/bakery",
        "object": {
            "id": vote_id,
            "type": "Note",
            "name": option,
            "attributedTo": voter,
            "inReplyTo": question,
        },
    }


async def _poll(services, bakery, *, multiple: bool = False, ends_in: int = 3_600_000):
    post_id, uri = await add_post(services, bakery, "Which bread?")
    await polls.insert(
        services.store,
        post_id=post_id,
        business_id=bakery.id,
        options=["Rye", "Spelt"],
        multiple=multiple,
        hide_totals=False,
        expires_at=now_ms() + ends_in,
        now=now_ms(),
    )
    for voter in (ALICE, BOB):
        await add_remote_actor(services.store, voter)
    return post_id, uri


async def test_votes_count_once_per_voter_and_the_wrong_ones_are_ignored(services, bakery):
    # Given a one-choice poll of the bakery
    post_id, uri = await _poll(services, bakery)
    # When alice and bob vote, and alice votes again, for nothing, and redelivers
    outcomes = [
        await handle(services, vote(ALICE, uri, "Rye", 1)),
        await handle(services, vote(BOB, uri, "Spelt", 2)),
        await handle(services, vote(ALICE, uri, "Spelt", 3)),
        await handle(services, vote(ALICE, uri, "Cake", 4)),
        await handle(services, vote(ALICE, uri, "Rye", 1)),
    ]
    # Then two votes count, the rest are ignored, and nobody is notified of a mention
    assert outcomes[:2] == ["vote counted", "vote counted"]
    assert outcomes[2] == "ignored: a second vote in a one-choice poll"
    assert outcomes[3] == "ignored: a vote for an option the poll does not have"
    assert outcomes[4] == "ignored: a second vote in a one-choice poll"
    poll = await polls.of_post(services.store, post_id)
    assert poll is not None and poll.counts == [1, 1] and poll.voters == 2
    assert await notification_types(services.store) == []


async def test_a_multiple_choice_poll_takes_each_option_once(services, bakery):
    post_id, uri = await _poll(services, bakery, multiple=True)
    assert await handle(services, vote(ALICE, uri, "Rye", 1)) == "vote counted"
    assert await handle(services, vote(ALICE, uri, "Spelt", 2)) == "vote counted"
    again = await handle(services, vote(ALICE, uri, "Spelt", 3))
    assert again == "ignored: this vote was counted before"
    poll = await polls.of_post(services.store, post_id)
    assert poll is not None and poll.counts == [1, 1] and poll.voters == 1


async def test_a_vote_after_the_close_is_ignored(services, bakery):
    post_id, uri = await _poll(services, bakery, ends_in=-1000)
    assert (
        await handle(services, vote(ALICE, uri, "Rye")) == "ignored: a vote after the poll closed"
    )
    poll = await polls.of_post(services.store, post_id)
    assert poll is not None and poll.counts == [0, 0]


async def test_a_named_note_on_a_post_without_a_poll_is_an_ordinary_reply(services, bakery):
    _post_id, uri = await add_post(services, bakery)
    await add_remote_actor(services.store, ALICE)
    outcome = await handle(services, vote(ALICE, uri, "Rye"))
    assert outcome.startswith("note stored")
    assert await notification_types(services.store) == ["reply"]
