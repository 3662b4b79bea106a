"""Sharing the CPU between a burst of incoming activities and the worker that handles them.

With the worker in-process (the default), the inboxes and the inbox worker run on the same
event loop, on one core, and on SQLite they also take turns on the store's one write lock.
During a burst every millisecond the worker spends (its CPU, its transactions holding the
write lock) delays the inboxes' commits and so their 202s; a sender that gets no answer in
time retries (more work) or gives up. Handling can wait a few seconds; accepting cannot.

- **Busy** is measured where it shows: the inbox writer's groups. A group of
  ``BUSY_GROUP`` or more activities means that many requests were waiting on one commit,
  which a trickle never causes (a request at a time makes groups of one). The inboxes are
  busy for ``BUSY_HOLD_SECONDS`` after such a group: long enough to bridge the pauses
  between a burst's groups (at most ~20 ms in ``bench.inbox`` on a loaded 2-core machine),
  short enough that the worker is not idle long after the burst (0.25 s was most of what
  3x a 1,000-activity burst's accept time leaves it).
- **While busy**, inbox items wait: they are let through one at a time, each at least
  ``FLOOR_SECONDS`` after the previous one started (``AcceptLoad.turn``).
- **The floor**: that one item per ``FLOOR_SECONDS`` (10 a second) keeps being handled
  however long a burst lasts, so the worker never starves. When the burst ends, waiting
  items go at once and the runner's full concurrency returns. The inbox writer wakes the
  worker when it stored something while quiet, and once a burst it stored something in is
  over (``group_commit``, ``quiet_in``): a worker whose last claim came back short would
  otherwise sleep through the burst's end until its poll, a second later. A worker idle
  when a burst starts stays idle through it (its poll still brings it to the floor's pace
  in a long one); waking it at each of the burst's groups made it claim and handle at the
  floor's pace, two write transactions each 0.1 s against the inboxes' commits.

Items that wait keep their lease (two minutes, far longer than any wait here); nothing is
lost or reordered by waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fedi_town.services import Services

BUSY_GROUP = 8
BUSY_HOLD_SECONDS = 0.1
FLOOR_SECONDS = 0.1


class AcceptLoad:
    """Whether the inboxes are taking a burst, and the gate inbox items pass meanwhile."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._busy_until = 0.0
        self._last_start = -FLOOR_SECONDS
        self._gate = asyncio.Lock()
        #: items that had to wait for a burst (for tests and the benchmark's notes)
        self.waited = 0

    def note_group(self, size: int) -> None:
        """The inbox writer stored ``size`` activities with one commit."""
        if size >= BUSY_GROUP:
            self._busy_until = self._clock() + BUSY_HOLD_SECONDS

    def busy(self) -> bool:
        """Whether the inboxes are taking a burst right now."""
        return self._clock() < self._busy_until

    def quiet_in(self) -> float:
        """Seconds until the burst counts as over if no large group comes (0 when quiet)."""
        return max(0.0, self._busy_until - self._clock())

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait until this inbox item may be handled: at once when quiet; during a burst,
        one at a time, at least ``FLOOR_SECONDS`` apart."""
        if self.busy():
            self.waited += 1
            async with self._gate:
                await self._until_quiet_or_floor()
                self._last_start = self._clock()
        yield

    async def _until_quiet_or_floor(self) -> None:
        while True:
            # The burst may go on (busy_until moves on), the floor does not move.
            wake_at = min(self._busy_until, self._last_start + FLOOR_SECONDS)
            now = self._clock()
            if now >= wake_at:
                return
            await asyncio.sleep(wake_at - now)


def accept_load(services: Services) -> AcceptLoad:
    """This process's inbox load, made on first use."""
    return services.parts.get(AcceptLoad, AcceptLoad)
