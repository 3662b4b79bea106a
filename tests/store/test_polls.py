"""store.polls: counts computed from the votes, one row per voter and option, and which
polls have counts (or a close) to send. Both backends."""

from __future__ import annotations

import pytest

from fedi_town.store import polls

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000_000


async def test_counts_voters_and_due_updates(store):
    # Given a poll closing in ten minutes
    await polls.insert(
        store,
        post_id=7,
        business_id=1,
        options=["a", "b", "c"],
        multiple=True,
        hide_totals=True,
        expires_at=NOW + 600_000,
        now=NOW,
    )
    assert await polls.due_updates(store, NOW, 60_000) == []
    # When two people vote, one of them twice for the same option
    assert await polls.add_vote(store, post_id=7, voter_uri="u1", choice=0, vote_uri="v1", now=NOW)
    assert await polls.add_vote(store, post_id=7, voter_uri="u1", choice=2, vote_uri="v2", now=NOW)
    assert await polls.add_vote(store, post_id=7, voter_uri="u2", choice=2, vote_uri="v3", now=NOW)
    again = await polls.add_vote(store, post_id=7, voter_uri="u2", choice=2, vote_uri="v4", now=NOW)
    # Then each option's votes and the voters are counted, the repeat not kept
    assert again is False
    poll = await polls.of_post(store, 7)
    assert poll is not None and poll.counts == [1, 0, 2] and poll.voters == 2
    assert poll.multiple and poll.hide_totals and not poll.closed(NOW)
    assert await polls.voted(store, 7, "u1") == [0, 2]
    assert await polls.voter_uris(store, 7) == ["u1", "u2"]
    # And it is due once, then not until a minute passed and another vote came
    assert await polls.due_updates(store, NOW, 60_000) == [7]
    await polls.mark_sent(store, 7, now=NOW, closed=False)
    assert await polls.due_updates(store, NOW + 61_000, 60_000) == []
    await polls.add_vote(store, post_id=7, voter_uri="u3", choice=1, vote_uri="v5", now=NOW)
    assert await polls.due_updates(store, NOW + 30_000, 60_000) == []
    assert await polls.due_updates(store, NOW + 61_000, 60_000) == [7]
    # And once closed it is due until the close is marked sent
    await polls.mark_sent(store, 7, now=NOW + 61_000, closed=False)
    assert await polls.due_updates(store, NOW + 600_000, 60_000) == [7]
    await polls.mark_sent(store, 7, now=NOW + 600_000, closed=True)
    assert await polls.due_updates(store, NOW + 900_000, 60_000) == []
    closed = await polls.of_post(store, 7)
    assert closed is not None and closed.closed_sent
    assert await polls.of_posts(store, []) == {}
