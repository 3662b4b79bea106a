"""The worker steps aside during an inbox burst, but never stops (``inbound/backpressure``)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from fedi_town.inbound.backpressure import BUSY_GROUP, BUSY_HOLD_SECONDS, AcceptLoad

pytestmark = pytest.mark.anyio


async def handled(load: AcceptLoad, n: int, done: list[int]) -> None:
    async def one(i: int) -> None:
        async with load.turn():
            done.append(i)

    await asyncio.gather(*(one(i) for i in range(n)))


async def test_a_trickle_never_makes_the_worker_wait():
    load = AcceptLoad()
    # Given groups of one or a few activities (one request at a time)
    for size in (1, 2, BUSY_GROUP - 1):
        load.note_group(size)
    # Then items are handled at once
    done: list[int] = []
    await handled(load, 5, done)
    assert not load.busy()
    assert load.waited == 0
    assert sorted(done) == [0, 1, 2, 3, 4]


async def test_a_burst_makes_items_wait_but_they_are_still_handled():
    load = AcceptLoad()

    async def burst() -> None:  # the inboxes keep committing large groups
        while True:
            load.note_group(BUSY_GROUP * 2)
            await asyncio.sleep(0.01)

    bursting = asyncio.create_task(burst())
    try:
        await asyncio.sleep(0)
        assert load.busy()
        # When inbox items come up while the burst goes on
        done: list[int] = []
        await asyncio.wait_for(handled(load, 3, done), timeout=30)
        # Then they waited, and were all handled all the same (the floor)
        assert load.waited == 3
        assert sorted(done) == [0, 1, 2]
        assert load.busy()
    finally:
        bursting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bursting


async def test_items_waiting_for_a_burst_go_when_it_ends():
    load = AcceptLoad()
    load.note_group(BUSY_GROUP)
    done: list[int] = []
    # When a burst is over (no more large groups), every waiting item goes
    await asyncio.wait_for(handled(load, 20, done), timeout=30)
    assert sorted(done) == list(range(20))
    assert not load.busy()


async def test_a_burst_counts_as_over_the_hold_after_its_last_large_group():
    now = [100.0]
    load = AcceptLoad(clock=lambda: now[0])
    # Given a large group, then the trickle of small groups that follows a burst
    load.note_group(BUSY_GROUP)
    load.note_group(1)
    # Then the inboxes are busy until BUSY_HOLD_SECONDS after the large group, and no longer
    now[0] += BUSY_HOLD_SECONDS * 0.9
    assert load.busy()
    now[0] += BUSY_HOLD_SECONDS * 0.2
    assert not load.busy()
    # And another large group makes them busy again, for as long
    load.note_group(BUSY_GROUP * 4)
    assert load.busy()
