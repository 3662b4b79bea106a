"""Fixtures of the Mastodon client API tests (helpers in flow.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mastodon.flow import SignedIn, signed_in


@pytest.fixture
async def bakery_app(live: Any) -> SignedIn:
    """The bakery on the live instance, its owner signed in to the owner app, and
    Mastodon.py signed in as it (``read write``)."""
    return await signed_in(live)
