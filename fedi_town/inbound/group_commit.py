"""Group commit for the inboxes: many accepted activities, one transaction, one commit.

    row_id = await inbox_writer(services).store(received)   # None: received before

Every inbox request that passed its checks hands its activity to this process's one
``InboxWriter`` and waits. The writer's task takes every activity waiting at that moment,
stores them with ``store.inbox.add_many`` (one multi-row INSERT, one commit: one fsync on
SQLite instead of one per activity), and only then answers each waiting request with its
row id. So an inbox answers 202 only once its activity is committed, exactly as before;
while one commit runs, the next group gathers, without any added delay or timer.

Failures never acknowledge what was not stored: when a group's transaction fails, its
activities are stored again one by one, each in its own transaction, and each request gets
its own outcome (row id, None for a repeat, or the exception). A commit that failed after
it was in fact written is harmless: the retry finds the activity and answers "received
before". Each group's size tells ``backpressure`` whether the inboxes are taking a
burst. On shutdown (``close``) the writer stores everything already handed to it before
it stops; anything handed over later is stored directly, one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from fedi_town.inbound.backpressure import accept_load
from fedi_town.services import Services
from fedi_town.store import inbox as inbox_store
from fedi_town.store.effects import Wake
from fedi_town.store.inbox import Received
from fedi_town.store.queue import INBOX

log = logging.getLogger(__name__)

#: At most this many activities per transaction (a larger wait is split over several).
MAX_GROUP = 500

_Pending = tuple[Received, "asyncio.Future[int | None]"]


@dataclass
class InboxWriter:
    """This process's writer of received activities (see the module docstring)."""

    services: Services
    max_group: int = MAX_GROUP
    #: transactions run and activities handed over, for tests and the benchmark's notes
    groups: int = 0
    activities: int = 0
    _waiting: list[_Pending] = field(default_factory=list)
    _wake: asyncio.Event | None = None
    _task: asyncio.Task[None] | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _closed: bool = False
    #: a burst's group stored rows without waking the worker: wake it once the burst is over
    _wake_when_quiet: bool = False

    async def store(self, item: Received) -> int | None:
        """Store ``item`` with the next group; its row id, or None if received before.

        Returns only once the row is committed; raises what storing it raised.
        """
        self.activities += 1
        if self._closed:
            return (await self._write_alone([item]))[0]
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._start(loop)
        assert self._wake is not None
        future: asyncio.Future[int | None] = loop.create_future()
        self._waiting.append((item, future))
        self._wake.set()
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._wake = asyncio.Event()
        self._task = loop.create_task(self._run(), name="inbox-group-commit")

    async def close(self) -> None:
        """Store everything handed over so far, then stop; later items are stored alone."""
        self._closed = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None and not self._task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._waiting:  # the task was gone (cancelled, another loop): store them here
            await self._write(self._take(len(self._waiting)))

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            if not self._waiting:
                if self._closed:
                    return
                self._wake.clear()
                quiet_in = accept_load(self.services).quiet_in()
                if self._wake_when_quiet and quiet_in <= 0:
                    self._wake_when_quiet = False
                    self.services.store.after_commit(Wake(INBOX))
                elif self._wake_when_quiet:  # until the burst is over, or more to store
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=quiet_in)
                else:
                    await self._wake.wait()
                continue
            await self._write(self._take(self.max_group))

    def _take(self, limit: int) -> list[_Pending]:
        group, self._waiting = self._waiting[:limit], self._waiting[limit:]
        return group

    async def _write(self, group: list[_Pending]) -> None:
        """Store one group and answer each of its requests; never raises."""
        self.groups += 1
        items = [item for item, _ in group]
        try:
            try:
                outcomes: Sequence[int | BaseException | None] = await inbox_store.add_many(
                    self.services.store, items, now=self.services.now_ms()
                )
            except Exception as exc:
                if len(group) > 1:
                    log.warning(
                        "inbox: storing a group of %d failed (%s); storing them one by one",
                        len(group),
                        exc.__class__.__name__,
                    )
                    outcomes = await self._write_each(items)
                else:
                    outcomes = [exc]
        except BaseException:  # cancelled mid-write: these requests get no acknowledgement
            for _, future in group:
                if not future.done():
                    future.set_exception(RuntimeError("the inbox writer was stopped"))
            raise
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if future.done():  # the request went away; its row is stored all the same
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        load = accept_load(self.services)
        load.note_group(len(group))
        if any(isinstance(o, int) for o in outcomes):
            if load.busy():
                # An idle worker is left idle during a burst (``backpressure``), but woken
                # when it ends (``_run``), not at its next poll a second later.
                self._wake_when_quiet = True
            else:
                self._wake_when_quiet = False
                self.services.store.after_commit(Wake(INBOX))

    async def _write_each(self, items: list[Received]) -> list[int | BaseException | None]:
        outcomes: list[int | BaseException | None] = []
        for item in items:
            try:
                now = self.services.now_ms()
                [stored] = await inbox_store.add_many(self.services.store, [item], now=now)
                outcomes.append(stored)
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    async def _write_alone(self, items: list[Received]) -> list[int | None]:
        ids = await inbox_store.add_many(self.services.store, items, now=self.services.now_ms())
        if any(i is not None for i in ids):
            self.services.store.after_commit(Wake(INBOX))
        return ids


def inbox_writer(services: Services) -> InboxWriter:
    """This process's writer, made on first use."""
    return services.parts.get(InboxWriter, lambda: InboxWriter(services))


async def close_inbox_writer(services: Services) -> None:
    """Shutdown hook: store what was handed over, then stop the writer."""
    found = services.parts.find(InboxWriter)
    if found is not None:
        await found.close()
