"""Fixtures for the interop suite: ``fedify``, a client of a running Fedify peer.

The peer process is started once per session (about 1.5 s) and cleared before each test.
When npm or Node 22+ is missing, or ``npm ci`` fails, the tests are skipped with the reason,
except with CI=true, where that is a failure: CI must run them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.conftest import IN_CI
from tests.interop.harness import FedifyClient, FedifyProcess, PeerUnavailable


@pytest.fixture(scope="session")
def fedify_process() -> Iterator[FedifyProcess]:
    """The Fedify peer on 127.0.0.1, for the whole session."""
    try:
        peer = FedifyProcess.start()
    except PeerUnavailable as exc:
        if IN_CI:
            pytest.fail(f"the Fedify peer is required in CI and cannot run: {exc}")
        pytest.skip(f"the Fedify peer cannot run here: {exc}")
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture
async def fedify(fedify_process: FedifyProcess) -> AsyncIterator[FedifyClient]:
    """A client of the Fedify peer's control API; the peer's records start empty."""
    async with FedifyClient(fedify_process) as client:
        await client.clear()
        yield client
