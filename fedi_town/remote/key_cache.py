"""Remote actors' public keys kept in memory, and read from ``remote_keys`` in batches.

    KeyCache    a bounded LRU of parsed keys by key id; an actor's keys are forgotten when
                its document is stored again (``remote.actors.store_profile``)
    KeyLoader   reads keys missing from memory: requests that miss at the same moment (a
                burst from many senders after a restart) share one query

The process has one of each (``Services.key_cache``, and the loader made on first use).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field

from fedi_town.protocol.keys import PublicKey
from fedi_town.store import actors as store_actors
from fedi_town.store.actors import StoredKey
from fedi_town.store.db import Store

KEY_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class CachedKey:
    key_id: str
    owner_uri: str
    public_key: PublicKey = field(repr=False)


class KeyCache:
    """A bounded LRU of parsed public keys by key id."""

    def __init__(self, max_keys: int = KEY_CACHE_SIZE) -> None:
        self._max = max_keys
        self._keys: OrderedDict[str, CachedKey] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, key_id: str) -> CachedKey | None:
        found = self._keys.get(key_id)
        if found is not None:
            self._keys.move_to_end(key_id)
        return found

    def put(self, key: CachedKey) -> None:
        self._keys[key.key_id] = key
        self._keys.move_to_end(key.key_id)
        while len(self._keys) > self._max:
            self._keys.popitem(last=False)

    def forget_owner(self, owner_uri: str) -> None:
        for key_id in [k for k, v in self._keys.items() if v.owner_uri == owner_uri]:
            del self._keys[key_id]


class KeyLoader:
    """Reads keys missing from memory from ``remote_keys``: every key asked for while a
    query runs goes into the next one, and concurrent requests for one key share it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.queries = 0  # for tests
        self._waiting: dict[str, asyncio.Future[StoredKey | None]] = {}
        self._task: asyncio.Task[None] | None = None

    async def load(self, key_id: str) -> StoredKey | None:
        """The stored key, or None if ``remote_keys`` has no such key."""
        future = self._waiting.get(key_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiting[key_id] = future
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._run())
        # shielded: a request that goes away must not cancel the others' answer
        return await asyncio.shield(future)

    async def _run(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            self.queries += 1
            try:
                found = await store_actors.keys(self.store, list(batch))
            except Exception as exc:
                for future in batch.values():
                    if not future.done():
                        future.set_exception(exc)
                continue
            for key_id, future in batch.items():
                if not future.done():
                    future.set_result(found.get(key_id))
