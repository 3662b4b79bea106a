"""The things that touch the world, built once at start and passed to every route.

Tests build their own ``Services`` (a real database file, a fixed clock, a loopback HTTP
client) instead of patching globals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from fedi_town.protocol.urls import Urls
from fedi_town.settings import Settings
from fedi_town.store.db import Store

T = TypeVar("T")


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
    #: long-lived helpers other modules hang here (caches, worker handle); never in a repr,
    #: as some hold opened private keys
    extras: dict[str, Any] = field(default_factory=dict, repr=False)

    def shared(self, name: str, make: Callable[[], T]) -> T:
        """This process's one ``name`` helper (a cache, a writer), made by ``make`` on first
        use and kept in ``extras``."""
        found = self.extras.get(name)
        if found is None:
            found = self.extras[name] = make()
        return cast(T, found)

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(
            settings=settings, store=Store(settings.database_url), urls=Urls(settings.base_url)
        )
