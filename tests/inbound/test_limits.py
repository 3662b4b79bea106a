"""Inbox limits: a rate per remote host (429) and a bound on the unhandled backlog (503)."""

from __future__ import annotations

import pytest

from fedi_town.inbound import limits
from fedi_town.services import Services
from fedi_town.store.db import new_id
from tests.live import live_instance
from tests.reliability import record

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_host_gets_its_burst_then_one_activity_per_token():
    # Given 2 a second with bursts of 5
    clock = Clock()
    rates = limits.HostRates(2, 5, clock)
    # When a host sends 6 at once, then the first 5 pass and the 6th waits half a second
    assert [rates.take("a.example") for _ in range(5)] == [0.0] * 5
    assert rates.take("a.example") == pytest.approx(0.5)
    # And half a second later one more passes
    clock.now += 0.5
    assert rates.take("a.example") == 0.0


def test_one_hosts_flood_leaves_other_hosts_their_whole_burst():
    clock = Clock()
    rates = limits.HostRates(1, 3, clock)
    for _ in range(10):
        rates.take("flood.example")
    assert [rates.take("quiet.example") for _ in range(3)] == [0.0] * 3


def test_the_hosts_remembered_stay_bounded(monkeypatch):
    # Given room for 100 hosts
    monkeypatch.setattr(limits, "MAX_HOSTS", 100)
    clock = Clock()
    rates = limits.HostRates(1, 3, clock)
    # When 1,000 different hosts send one activity each, a second apart
    for n in range(1_000):
        clock.now += 1.0
        assert rates.take(f"h{n}.example") == 0.0
    # Then at most 100 are remembered
    assert len(rates._buckets) <= 100


async def test_a_remote_host_over_its_burst_gets_429_with_retry_after(database_url, tmp_path, peer):
    # Given an instance allowing each host 1 activity a second, bursts of 3
    async with live_instance(
        database_url, tmp_path, inbox_host_rate=1, inbox_host_burst=3, worker="off"
    ) as live:
        await live.create_business("bakery")
        inbox = live.urls.inbox("bakery")
        # When alice's server sends 5 signed activities at once
        statuses = []
        for _ in range(5):
            response = await peer.post(inbox, peer.follow(live.urls.actor("bakery")))
            statuses.append(response.status_code)
        # Then 3 are accepted and the others get 429 with a Retry-After
        record("inbox", "one host over its rate", str(statuses[-1]))
        assert statuses == [202, 202, 202, 429, 429]
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"] == "application/problem+json"


async def test_junk_naming_a_hosts_key_does_not_spend_that_hosts_budget(
    database_url, tmp_path, peer
):
    # Given an instance allowing bursts of 2 per host
    async with live_instance(
        database_url, tmp_path, inbox_host_rate=1, inbox_host_burst=2, worker="off"
    ) as live:
        await live.create_business("bakery")
        inbox = live.urls.inbox("bakery")
        target = live.urls.actor("bakery")

        # When someone sends 5 activities naming alice's key, but with a bad signature
        def broken(headers, body):
            return headers, body + b" "

        refused = [
            (await peer.post(inbox, peer.follow(target), tamper=broken)).status_code
            for _ in range(5)
        ]
        # Then each is refused as unsigned (401) and alice's own 2 still pass
        genuine = [(await peer.post(inbox, peer.follow(target))).status_code for _ in range(2)]
        record("inbox", "forged key id spending a host's rate", str(genuine[-1]))
        assert set(refused) == {401}
        assert genuine == [202, 202]


async def test_inboxes_answer_503_while_the_backlog_is_over_its_bound(database_url, tmp_path, peer):
    # Given an instance whose backlog bound is 100, with 101 items waiting (worker off)
    async with live_instance(database_url, tmp_path, inbox_max_backlog=100, worker="off") as live:
        await live.create_business("bakery")
        await live.store.execute_many(
            "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
            "next_attempt_at, created_at) VALUES (:id, :uri, 'a', 'Like', '{}', 'pending', 0, 0)",
            [{"id": new_id(), "uri": f"https://x.example/{n}"} for n in range(101)],
        )
        await limits.backlog(live.services).refresh()
        # When a peer sends a signed activity
        follow = peer.follow(live.urls.actor("bakery"))
        response = await peer.post(live.urls.inbox("bakery"), follow)
        # Then it is told to come back later
        record("inbox", "backlog over its bound", str(response.status_code))
        assert response.status_code == 503
        assert int(response.headers["retry-after"]) == limits.BACKLOG_RETRY_AFTER_S


async def test_the_backlog_count_refreshes_itself_without_a_request_waiting(store, settings):
    # Given a backlog count made long ago, and 3 pending items
    services = Services.from_settings(settings)
    services.store = store
    clock = Clock()
    backlog = limits.Backlog(services, clock)
    for n in range(3):
        await store.execute(
            "INSERT INTO inbox_items (id, activity_uri, actor_uri, type, body, state, "
            "next_attempt_at, created_at) VALUES (:id, :uri, 'a', 'Like', '{}', 'pending', 0, 0)",
            {"id": new_id(), "uri": f"https://x.example/{n}"},
        )
    # When a request asks, then it gets the old count at once and a refresh starts
    assert backlog.over(2) is False
    await backlog.close()
    # And the next request sees the new count; no new refresh before BACKLOG_REFRESH_S
    assert backlog.pending == 3
    assert backlog.over(2) is True
    assert backlog._refreshing is None


def test_a_flooding_host_is_logged_once_until_it_is_let_in_again():
    clock = Clock()
    rates = limits.HostRates(1, 1, clock)
    rates.take("flood.example")
    assert rates.take("flood.example") > 0
    assert [rates.note_refusal("flood.example") for _ in range(3)] == [True, False, False]
    clock.now += 1.0
    assert rates.take("flood.example") == 0.0
    assert rates.note_refusal("flood.example") is True
