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


class Parts:
    """Process-local helpers that belong to one way (the inbox's rate limits, the read side's
    document cache), each made on first use and keyed by its own class.

    Keyed by class rather than by name, so what comes back is typed and no other module can
    reach a way's helper by a string; what several layers share is a field of ``Services``.
    """

    def __init__(self) -> None:
        self._made: dict[type[Any], Any] = {}

    def get(self, kind: type[T], make: Callable[[], T]) -> T:
        """This process's one ``kind``, made by ``make`` on first use."""
        found = self._made.get(kind)
        if found is None:
            found = self._made[kind] = make()
        return cast(T, found)

    def find(self, kind: type[T]) -> T | None:
        """The ``kind`` made so far, or None (a stop hook: nothing to stop if never made)."""
        return cast("T | None", self._made.get(kind))

    def pop(self, kind: type[T]) -> T | None:
        return cast("T | None", self._made.pop(kind, None))


@dataclass(frozen=True)
class WorkerOptions:
    """How this process runs its worker: ``lease_ms`` replaces every queue's lease (tests:
    leases that pass in seconds), ``poll_seconds`` is the longest wait between two looks at
    an idle queue, ``stop_deadline`` what rows still running get at stop, and ``standalone``
    runs it even with ``FEDI_TOWN_WORKER=off`` (``fedi-town worker``)."""

    lease_ms: int | None = None
    poll_seconds: float = 1.0
    stop_deadline: float = 10.0
    standalone: bool = False


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class Services:
    """Settings, storage, URL builder, clock and (once started) the remote client."""

    settings: Settings
    store: Store
    urls: Urls
    clock: Callable[[], datetime] = utc_now
    #: set by the app's lifespan: fedi_town.remote.http.RemoteClient
    remote: Any = None
    #: how this process runs its background worker
    worker: WorkerOptions = field(default_factory=WorkerOptions)
    #: long-lived helpers other modules hang here (caches, worker handle); never in a repr,
    #: as some hold opened private keys
    extras: dict[str, Any] = field(default_factory=dict, repr=False)
    #: each way's own process-local helpers, keyed by class (see ``Parts``)
    parts: Parts = field(default_factory=Parts, repr=False)

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
