"""Stored reading positions."""

from __future__ import annotations

import pytest

from fedi_town.store import markers

pytestmark = pytest.mark.anyio


async def test_saving_again_moves_the_marker_and_counts_the_version(store):
    await markers.save(store, 7, "home", "10", now=1000)
    await markers.save(store, 7, "home", "20", now=2000)
    await markers.save(store, 8, "notifications", "5", now=3000)
    mine = await markers.of_business(store, 7)
    assert [(m.timeline, m.last_read_id, m.version, m.updated_at) for m in mine] == [
        ("home", "20", 2, 2000)
    ]
    assert await markers.of_business(store, 8, ["home"]) == []
