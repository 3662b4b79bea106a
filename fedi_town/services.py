"""The things that touch the world, built once at start and passed to every route.

Tests build their own ``Services`` (a real database file, a fixed clock, a loopback HTTP
client) instead of patching globals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fedi_town.protocol.urls import Urls
from fedi_town.settings import Settings
from fedi_town.store.db import Store


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Settings, storage, URL builder, clock and (once started) the remote client."""

    settings: Settings
    store: Store
    urls: Urls
    clock: Callable[[], datetime] = utc_now
    #: set by the app's lifespan: fedi_town.remote.http.RemoteClient
    remote: Any = None
    #: long-lived helpers other modules hang here (caches, worker handle)
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(
            settings=settings, store=Store(settings.database_url), urls=Urls(settings.base_url)
        )
