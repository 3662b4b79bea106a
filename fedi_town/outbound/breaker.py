"""Per-host circuit breaker, counted in memory and written to storage only on transitions.

A fan-out sends one request per host for most hosts, so reading and writing a host's row per
delivery cost two queries of every delivery. Here each process keeps what it knows in a
dict; only troubled hosts are in it, so a healthy host costs a dict lookup:

- a failure (timeout, refused connection, 408, 5xx) counts in memory; at
  ``THRESHOLD`` in a row the breaker opens and that is written (``save_open``), as is every
  further failure while it is open (a failed probe pushes the next probe back);
- a success of a host with failures resets it, and writes that only if storage had heard of
  it (``save_closed`` also wakes the rows deferred while it was open);
- at probe time one row probes: this process lets one through, and storage's conditional
  UPDATE (``take_probe``) keeps other processes from probing at the same time.

Other processes' transitions arrive with ``refresh``: every ``REFRESH_MS`` the troubled hosts
are read again in one query. Failures below the threshold are this process's own and are
lost on restart, as a count of a few timeouts may be.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Literal

from fedi_town.store import deliveries as delivery_store
from fedi_town.store.db import Store

log = logging.getLogger(__name__)

#: How often a process reads the other processes' transitions (ms).
REFRESH_MS = 5_000


@dataclass
class _Host:
    failures: int = 0
    open_until: int | None = None
    #: storage has a row for it with failures or an open breaker (a success must reset it)
    stored: bool = False


Verdict = Literal["send", "probe"] | int


class Breaker:
    """What this process knows about troubled hosts; healthy hosts are not in it."""

    def __init__(self, refresh_ms: int = REFRESH_MS) -> None:
        self.refresh_ms = refresh_ms
        self._hosts: dict[str, _Host] = {}
        self._loaded_at: int | None = None
        self._loading = asyncio.Lock()

    def state(self, host: str) -> delivery_store.HostState:
        known = self._hosts.get(host)
        if known is None:
            return delivery_store.HostState(0, None)
        return delivery_store.HostState(known.failures, known.open_until)

    async def refresh(self, store: Store, now: int, *, force: bool = False) -> None:
        """Read every troubled host from storage when the last read is ``refresh_ms`` old."""
        if not force and self._fresh(now):
            return
        async with self._loading:
            if not force and self._fresh(now):
                return  # another task read it while this one waited
            stored = await delivery_store.troubled_hosts(store)
            hosts: dict[str, _Host] = {
                name: _Host(s.consecutive_failures, s.open_until, stored=True)
                for name, s in stored.items()
            }
            for name, known in self._hosts.items():
                if name not in hosts and not known.stored:
                    hosts[name] = known  # failures of our own, below the threshold
            self._hosts = hosts
            self._loaded_at = now

    def _fresh(self, now: int) -> bool:
        return self._loaded_at is not None and now - self._loaded_at < self.refresh_ms

    async def verdict(self, store: Store, host: str, now: int) -> Verdict:
        """``"send"``, ``"probe"`` (the one request that tests an open breaker), or the time
        until which a row for ``host`` must wait."""
        await self.refresh(store, now)
        known = self._hosts.get(host)
        if known is None or known.open_until is None:
            return "send"
        if known.open_until > now:
            return known.open_until
        # Probe time. Moving open_until forward in memory first keeps this process's other
        # rows waiting; storage decides between processes.
        due = known.open_until
        known.open_until = now + delivery_store.PROBE_MS
        if await delivery_store.take_probe(store, host, due, now):
            log.info("probing %s after %d failures", host, known.failures)
            return "probe"
        later = await delivery_store.host_state(store, host)
        if later.open_until is None:
            self._hosts.pop(host, None)  # another process saw it recover
            return "send"
        known.failures, known.open_until = later.consecutive_failures, later.open_until
        return later.open_until

    async def failed(self, store: Store, host: str, now: int) -> delivery_store.HostState:
        """Count one trouble answer; open the breaker (and store it) at the threshold."""
        known = self._hosts.setdefault(host, _Host())
        known.failures += 1
        if known.failures >= delivery_store.THRESHOLD:
            known.open_until = now + delivery_store.open_ms(known.failures)
            await delivery_store.save_open(store, host, known.failures, known.open_until, now)
            known.stored = True
        return delivery_store.HostState(known.failures, known.open_until)

    async def succeeded(self, store: Store, host: str, now: int) -> bool:
        """The host answered: forget its failures. True if its breaker was open."""
        known = self._hosts.pop(host, None)
        if known is None:
            return False  # the common case: nothing to write
        if not known.stored:
            return known.open_until is not None
        return await delivery_store.save_closed(store, host, now)
