"""The process's one outbound HTTP client: opened at start, closed at stop."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from fedi_town.errors import ServiceUnavailable
from fedi_town.lifecycle import close_client, describe_failure, open_client
from fedi_town.protocol.urls import Urls
from fedi_town.remote.http import RemoteClient
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store.db import Store

pytestmark = pytest.mark.anyio


async def test_the_client_is_opened_once_and_closed_at_stop(settings: Settings, store: Store):
    # Given services with no client yet
    services = Services(settings=settings, store=store, urls=Urls(settings.base_url))
    # When the start hook runs twice
    await open_client(services)
    first = services.remote
    await open_client(services)
    # Then there is one client, kept
    assert isinstance(first, RemoteClient) and services.remote is first
    # When the stop hook runs (twice: a second stop is harmless)
    await close_client(services)
    await close_client(services)
    # Then the client is gone
    assert services.remote is None


def test_a_start_that_cannot_reach_the_database_is_one_line_naming_its_setting():
    # Given the store's refusal of a PostgreSQL where nothing listens
    refused = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5499)")
    failure = ServiceUnavailable("the database is unreachable; try again later")
    failure.__cause__ = refused
    # When the start's failure is described, then it is one line naming the setting
    line = describe_failure(failure)
    assert line == (
        "cannot connect to the database of FEDI_TOWN_DATABASE_URL "
        "(ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 5499))"
    )


def _limits_after_raise(soft: int, hard: int, wanted: int) -> tuple[int, int]:
    """``raise_open_file_limit(wanted)`` in a fresh Python started under ``soft``/``hard``."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    code = (
        "import resource; from fedi_town.lifecycle import raise_open_file_limit; "
        f"print(*raise_open_file_limit({wanted}), *resource.getrlimit(resource.RLIMIT_NOFILE))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], preexec_fn=limit, capture_output=True, text=True, check=True
    )
    before, after, now_soft, now_hard = (int(n) for n in done.stdout.split())
    assert (before, now_soft, now_hard) == (soft, after, hard)
    return before, after


def test_a_low_soft_open_file_limit_is_raised_to_what_is_wanted_within_the_hard_one():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert hard == resource.RLIM_INFINITY or hard > 1024, "nothing to raise on this machine"
    # Under systemd's soft 1,024: raised to what is wanted, when the hard limit allows it
    assert _limits_after_raise(1024, hard, 2048) == (1024, 2048)
    # and no further than the hard limit
    assert _limits_after_raise(256, 1024, 65_536) == (256, 1024)
    # A soft limit already at or above what is wanted is left alone
    assert _limits_after_raise(1024, 1024, 512) == (1024, 1024)


def test_settling_the_heap_freezes_what_is_alive_and_raises_the_first_threshold():
    # In a fresh Python (freezing this test process would keep its objects forever)
    code = (
        "import gc; from fedi_town.lifecycle import settle_heap; before = gc.get_threshold(); "
        "settle_heap(5000); print(gc.get_freeze_count(), *before, *gc.get_threshold()); "
        "x = []; x.append(x); del x; print(gc.collect())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    frozen, *thresholds = (int(n) for n in done.stdout.split()[:7])
    # Then what was alive is frozen, the first threshold raised and the others kept
    assert frozen > 1000
    assert thresholds[3:] == [5000, *thresholds[1:3]]
    # and a garbage cycle made afterwards is still collected
    assert int(done.stdout.split()[7]) >= 1
