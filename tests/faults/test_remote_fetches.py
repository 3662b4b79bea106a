"""Fetches from remote servers that misbehave, on the inbox's path: an activity whose
signing key lives on a server that hangs, trickles or redirects in a loop is answered within
the client's total deadline (never a 500), and activities of other servers arriving
meanwhile are accepted as usual."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.test_remote_deliveries import (
    TOTAL_TIMEOUT,
    hang,
    instance,
    misbehaving,
    redirect_to,
    trickle,
)
from tests.peer import TestPeer
from tests.reliability import record

pytestmark = pytest.mark.anyio

CASES = {
    "hangs": hang,
    "trickles its answer": trickle,
    "redirects in a loop": redirect_to(lambda _: "/users/mallory"),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_key_on_a_misbehaving_server_is_answered_in_bounded_time_and_others_pass(
    database_url, tmp_path, case
):
    async with (
        instance(database_url, tmp_path) as live,
        TestPeer.running("alice") as good,
        misbehaving(CASES[case]) as bad,
    ):
        # Given a business, and an activity signed with a key said to be on a server that
        # misbehaves (the activity's actor is on that server too)
        await live.create_business("bakery")
        inbox = live.urls.inbox("bakery")
        target = live.urls.actor("bakery")
        mallory = f"{bad}/users/mallory"
        follow = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{bad}/follows/1",
            "type": "Follow",
            "actor": mallory,
            "object": target,
        }
        loop = asyncio.get_running_loop()
        started = loop.time()
        # When it arrives, and while its key is being fetched a good server's activity too
        slow = asyncio.create_task(good.post(inbox, follow, key_id=f"{mallory}#main-key"))
        await asyncio.sleep(0.2)
        quick = await good.post(inbox, good.follow(target))
        overtook = not slow.done()
        answer = await asyncio.wait_for(slow, timeout=TOTAL_TIMEOUT * 5)
        elapsed = loop.time() - started
    # Then the misbehaving server's activity is refused within the deadline, not with a 500
    record(
        "faults",
        f"signing key on a server that {case}",
        str(answer.status_code),
        seconds=round(elapsed, 1),
    )
    assert answer.status_code in (401, 502, 503, 504), answer.text
    assert elapsed < TOTAL_TIMEOUT * 3
    # And the good server's activity was accepted without waiting for it (before the
    # stuck fetch ended, when it is one that takes the whole deadline)
    assert quick.status_code == 202
    assert overtook or case == "redirects in a loop"
