"""The things that touch the world, built once at start and passed to every route.

Tests build their own ``Services`` (a real database file, a fixed clock, a loopback HTTP
client) instead of patching globals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from fedi_town.media.s3 import S3MediaStore
from fedi_town.media.storage import LocalMediaStore, MediaStore
from fedi_town.metrics import Metrics
from fedi_town.protocol.urls import Urls
from fedi_town.remote.actors import Fetcher
from fedi_town.remote.http import RemoteClient
from fedi_town.remote.key_cache import KeyCache, KeyLoader
from fedi_town.remote.knock import RequestSigner
from fedi_town.remote.signers import InstanceKey, business_signer
from fedi_town.remote.verify import Verifier
from fedi_town.settings import Settings
from fedi_town.store.businesses import Business
from fedi_town.store.db import Store, epoch_ms
from fedi_town.store.keys_at_rest import SealedKeys

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


def media_store(settings: Settings) -> MediaStore:
    """The media store ``settings`` configure (``FEDI_TOWN_MEDIA_STORAGE``). Nothing is
    contacted yet: a bucket's client is made with the first operation (media/s3.py)."""
    if settings.media_storage == "s3":
        return S3MediaStore.from_settings(settings)
    return LocalMediaStore(settings.media_dir)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class Services:
    """Settings, storage, URL builder, clock, our keys and (once started) the remote client."""

    settings: Settings
    store: Store
    urls: Urls
    clock: Callable[[], datetime] = utc_now
    #: the outbound HTTP client, opened at start (``lifecycle.open_client``)
    remote: RemoteClient | None = None
    #: the instance actor's key pair, read at start (``instance.ensure_instance_key``)
    instance_key: InstanceKey | None = field(default=None, repr=False)
    #: remote actors' public keys in memory (forgotten when their actor is stored again)
    key_cache: KeyCache = field(default_factory=KeyCache, repr=False)
    #: our private keys at rest: the keyring and the keys opened so far
    sealed_keys: SealedKeys = field(init=False, repr=False)
    #: how this process runs its background worker
    worker: WorkerOptions = field(default_factory=WorkerOptions)
    #: each way's own process-local helpers, keyed by class (see ``Parts``)
    parts: Parts = field(default_factory=Parts, repr=False)
    #: what this process counts for ``/metrics`` (nothing unless configured)
    metrics: Metrics = field(init=False, repr=False)
    #: where uploaded media is kept: a folder, or a bucket (``media_store``)
    media: MediaStore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.sealed_keys = SealedKeys(self.settings)
        self.metrics = Metrics.from_settings(self.settings)
        self.media = media_store(self.settings)

    def now_ms(self) -> int:
        """The clock's time in epoch milliseconds (how every timestamp is stored)."""
        return epoch_ms(self.clock())

    def started_remote(self) -> RemoteClient:
        """The remote client; only once started (``lifecycle.open_client``)."""
        if self.remote is None:
            raise RuntimeError("the remote client is opened at start")
        return self.remote

    def started_instance_key(self) -> InstanceKey:
        """The instance actor's key pair; only once started (``instance``)."""
        if self.instance_key is None:
            raise RuntimeError("the instance key is read at start")
        return self.instance_key

    def instance_signer(self) -> RequestSigner:
        """Signs as the instance actor (every server-to-server GET goes out this way)."""
        return self.started_instance_key().signer

    def business_signer(self, business: Business) -> RequestSigner:
        """Signs as ``business`` (deliveries of its activities)."""
        return business_signer(business, urls=self.urls, keys=self.sealed_keys, clock=self.clock)

    def fetcher(self) -> Fetcher:
        """What ``remote.actors`` fetches with (once started): signed as the instance actor."""
        return Fetcher(
            client=self.started_remote(),
            store=self.store,
            signer=self.instance_signer(),
            keys=self.key_cache,
            allow_private=self.settings.allow_private_addresses,
            clock=self.clock,
        )

    def verifier(self) -> Verifier:
        """What ``remote.verify`` checks signatures with; it fetches keys only when needed.
        Made once per process (every signed request asks for it)."""
        return self.parts.get(Verifier, self._make_verifier)

    def _make_verifier(self) -> Verifier:
        return Verifier(
            keys=self.key_cache,
            loader=self.parts.get(KeyLoader, lambda: KeyLoader(self.store)),
            fetcher=self.fetcher,
            clock=self.clock,
            max_skew=timedelta(seconds=self.settings.signature_max_skew),
            domain=self.settings.domain,
            metrics=self.metrics,
        )

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: Callable[[], datetime] = utc_now
    ) -> Services:
        """The services of ``settings``, reading time from ``clock`` (tests: a fixed one)."""
        return cls(
            settings=settings,
            store=Store(settings.database_url),
            urls=Urls(settings.base_url),
            clock=clock,
        )
