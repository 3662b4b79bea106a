"""The counts of a business's poll go out as Update{Question} (outbound/polls.py): at
once after the first vote, then at most once a minute whatever the number of votes, and
once more, ``closed``, when it ends; to the post's audience and the voters. Both backends.
The poll is made through the admin API (``poll`` in the post body)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fedi_town.outbound.polls import send_poll_updates
from fedi_town.store import polls
from tests.conftest import create_business
from tests.outbound.conftest import activities, add_follower, deliveries, write_post

pytestmark = pytest.mark.anyio

ANN = "https://m.example/users/ann"
CY = "https://solo.example/u/cy"
DEE = "https://far.example/users/dee"


async def test_votes_are_sent_batched_and_the_close_once(clocked_client, clock):
    # Given a poll of the bakery, which ann and cy follow, and dee (no follower) exists
    client = clocked_client
    store = client.services.store
    business = await create_business(client, "bakery")
    for uri in (ANN, CY):
        await add_follower(store, business["id"], uri)
    stranger = await add_follower(store, business["id"], DEE)
    await store.execute("DELETE FROM follows WHERE actor_id = :a", {"a": stranger})
    made = await write_post(
        client,
        business,
        content="Which bread?",
        poll={"options": ["Rye", "Spelt"], "expires_in": 600, "multiple": True},
    )
    assert made.status_code == 201, made.text
    post_id = int(made.json()["id"])
    [create] = await activities(store, "Create")
    assert create["object"]["type"] == "Question" and "anyOf" in create["object"]
    services = client.services

    async def votes(*pairs: tuple[str, int]) -> None:
        for n, (voter, choice) in enumerate(pairs):
            await polls.add_vote(
                store,
                post_id=post_id,
                voter_uri=voter,
                choice=choice,
                vote_uri=f"{voter}#votes/{clock.now.timestamp()}-{n}",
                now=services.now_ms(),
            )

    # When nobody voted, nothing is sent
    assert await send_poll_updates(services) == 0
    # When ann votes, one Update goes at once, with her vote
    await votes((ANN, 0))
    assert await send_poll_updates(services) == 1
    # When dee and cy vote within the minute, nothing more goes yet
    clock.advance(timedelta(seconds=20))
    await votes((DEE, 1), (CY, 0), (CY, 1))
    assert await send_poll_updates(services) == 0
    # Then a minute after the first Update, one Update carries all four votes
    clock.advance(timedelta(seconds=41))
    assert await send_poll_updates(services) == 1
    assert await send_poll_updates(services) == 0
    # And when the poll ends, one more Update says it closed
    clock.advance(timedelta(minutes=10))
    assert await send_poll_updates(services) == 1
    assert await send_poll_updates(services) == 0
    first, second, closing = await activities(store, "Update")
    counts = [[o["replies"]["totalItems"] for o in u["object"]["anyOf"]] for u in (first, second)]
    assert counts == [[1, 0], [2, 2]]
    assert second["object"]["votersCount"] == 3
    assert "closed" not in second["object"] and closing["object"]["closed"]
    assert len({first["id"], second["id"], closing["id"]}) == 3
    # And the voter who does not follow is sent the counts too
    inboxes = {d["inbox"] for d in await deliveries(store) if d["type"] == "Update"}
    assert f"{DEE}/inbox" in inboxes and f"{ANN}/inbox" in inboxes
