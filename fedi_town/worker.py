"""The worker: claims due rows from each queue, runs their handler, records the outcome.

Which handler works which queue, and the periodic jobs (scheduled posts, cleanup of old
rows), are listed here (``RUNNERS``, ``build_worker``): the ways only write handlers.

By default it runs inside the web process (``FEDI_TOWN_WORKER=in-process``). With PostgreSQL,
``fedi-town worker`` runs it as its own process, as many as wanted: the queue's
``FOR UPDATE SKIP LOCKED`` claim keeps them from taking the same row.

A handler gets one claimed row and returns its ``queue.Outcome`` (done, retry at, give up,
defer), which the worker records; if it raises, the queue's ``RetryPolicy`` applies (backoff,
then give up after its attempt cap) and the error class is recorded, never the message
(messages can carry remote content). On stop, rows still running
get ``stop_deadline`` seconds to finish; the rest have their lease released so another worker
takes them at once.

**Batched finishing.** A ``Done`` outcome goes to its queue's ``Finisher``, which marks
every row that finished meanwhile in one UPDATE and one commit (a commit is an fsync on
SQLite, and all writes of a process queue for one lock). By default the handler waits for
that commit; a runner with ``finish_waits=False`` (deliveries) frees its slot at once and
lets the rows gather for ``finish_linger_s``. Either way a row keeps its lease until its
batch is committed, so no worker, here or in another process, can claim it again.

What a crash costs: a row whose request went out but whose batch was not committed yet
(the linger plus a commit: about 10-20 ms of deliveries) keeps its lease; when the lease
expires another worker sends it again. That is at-least-once
delivery on a crash, as in Mastodon (Sidekiq) and any queue that records success after
the fact; receivers dedupe activities by id. A normal stop loses nothing: it waits for the
running rows, then flushes every finisher, and only then releases the leases of the rows
that did not finish (release only touches rows still pending).

**Grouped runners (the inbox).** A runner with a ``group_handler`` works its queue in groups:
one claim, then the claimed rows are handled one after the other, in claim order, inside
ONE transaction that also records their outcomes (``done_many`` for the done ones): one
commit, one fsync on SQLite, for up to ``group_size`` rows instead of two transactions per
row. Each row runs inside a savepoint of its own, so a handler that raises undoes only its
own writes; its retry or give-up (the queue's ``RetryPolicy``, as for any raising handler) is
recorded in the same transaction, and its neighbours' effects stay. A group first runs
without savepoints (``Store.without_savepoints``: on PostgreSQL each was a round trip per
row): a row that fails before writing anything needs none, and if one fails after writing,
the transaction is rolled back and the group runs again, this time with them. A row whose handler
needs the network (``remote.http.NeedsNetwork``) leaves the group, with every later row of
the same key (the sender: ``group_key``), and is handled alone (``handler``) once the group
has committed, in order; while such rows are being handled, later claims route that key's
rows behind them, so one sender's items are never reordered. If the group's transaction
itself fails (the database went away, a commit refused), every row of it is handled
again alone. On PostgreSQL a claim is split by key into ``group_parts`` groups that run
side by side, each in its own transaction (one key's rows stay in one group); several
worker processes still share the queue through the claim's ``FOR UPDATE SKIP LOCKED``.
SQLite runs one group at a time (its writes take turns anyway).

**A lost database is waited out, never a reason to stop.** Every loop (claims, finishers,
periodic jobs) survives a failed query: it logs the first failure, backs off
(``Backoff``: 0.25 s doubling to ``MAX_BACKOFF_S``), tries again on a fresh connection (the
store never keeps one across awaits) and logs the recovery. A finisher keeps its batch until
it is committed, so rows that were sent are marked done once the database is back, not sent
again at every lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from fedi_town.inbound.dispatch import group_size, group_turn, handle_in_group, handle_inbox_item
from fedi_town.inbound.handlers import HANDLERS
from fedi_town.mastodon.push import handle_push
from fedi_town.outbound.commands import publish_due
from fedi_town.outbound.deliver import handle_delivery
from fedi_town.outbound.polls import SEND_EVERY, send_poll_updates
from fedi_town.outbound.profile import REFRESH_EVERY, refresh_due_profiles
from fedi_town.remote.http import NeedsNetwork
from fedi_town.services import Services
from fedi_town.store import heartbeats, retention, stream_events
from fedi_town.store import push as push_store
from fedi_town.store import queue as q
from fedi_town.store.db import Row
from fedi_town.store.effects import Wake

log = logging.getLogger(__name__)

Handler = Callable[[Services, Row], Awaitable[q.Outcome]]

#: When few slots are free, wait this long for more before claiming (seconds).
CLAIM_COALESCE_S = 0.01
#: Longest wait between two tries while the database keeps failing (seconds).
MAX_BACKOFF_S = 5.0
Periodic = Callable[[Services], Awaitable[None]]
#: How many rows a group may hold right now, and what a group waits for before it starts.
GroupSize = Callable[[Services], int]
GroupTurn = Callable[[Services, list[Row]], AbstractAsyncContextManager[None]]
#: Groups run side by side on PostgreSQL (SQLite: one at a time).
POSTGRES_GROUP_PARTS = 4


@dataclass
class QueueRunner:
    """How this process works one queue: its handler and how many rows at once (the lease
    and retry policy are the queue's own)."""

    queue: q.Queue
    handler: Handler
    concurrency: int = 16
    batch: int = 64
    #: finished rows: how long to gather them before a commit, and whether a handler waits
    #: for its row's commit (see ``Finisher``)
    finish_linger_s: float = 0.0
    finish_waits: bool = True
    #: set: the queue is worked in groups (see the module docstring); ``handler`` then
    #: works the rows handled alone
    group_handler: Handler | None = None
    group_size: GroupSize | None = None
    group_turn: GroupTurn | None = None
    #: the column whose rows keep their order (one key's rows never run side by side)
    group_key: str = "actor_uri"
    group_parts: int = POSTGRES_GROUP_PARTS


class Backoff:
    """How a loop waits out a failing database: the first failure is logged at ERROR, the
    next ones at DEBUG until a success, which is logged once; the wait doubles from
    ``first_s`` to ``MAX_BACKOFF_S``."""

    def __init__(self, what: str, first_s: float = 0.25, most_s: float = MAX_BACKOFF_S) -> None:
        self.what = what
        self.first_s = first_s
        self.most_s = most_s
        self.failures = 0

    def failed(self, exc: BaseException) -> float:
        """Note a failure; the seconds to wait before trying again."""
        self.failures += 1
        level = logging.ERROR if self.failures == 1 else logging.DEBUG
        log.log(level, "%s failed: %s; trying again", self.what, exc.__class__.__name__)
        log.debug("traceback", exc_info=exc)
        return float(min(self.most_s, self.first_s * 2 ** (self.failures - 1)))

    def succeeded(self) -> None:
        if self.failures:
            log.info("%s works again after %d failed tries", self.what, self.failures)
        self.failures = 0


class Finisher:
    """Marks one queue's finished rows done in batches: one UPDATE and one commit per batch.

    Rows are written once the previous batch is committed (group commit), after waiting
    ``linger_s`` for more to gather. With ``waits`` a handler waits for its row's commit;
    without, it hands the row over and its slot is free at once (the row keeps its lease
    until the commit, so nobody claims it meanwhile). A failed write keeps the rows and
    tries again after ``retry_s``.
    """

    def __init__(
        self,
        services: Services,
        queue: q.Queue,
        *,
        max_rows: int = 256,
        linger_s: float = 0.0,
        waits: bool = True,
        retry_s: float = 0.5,
    ) -> None:
        self.services = services
        self.queue = queue
        self.max_rows = max_rows
        self.linger_s = linger_s
        self.waits = waits
        self.retry_s = retry_s
        self.batches = 0  # committed batches (for tests and metrics)
        #: (row id, its columns, the future of a handler that waits for the commit)
        self._pending: list[tuple[int, Mapping[str, object], asyncio.Future[bool] | None]] = []
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._closing = asyncio.Event()
        self._backoff = Backoff(f"marking {queue.table} rows done", first_s=retry_s)
        self._delay = retry_s

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def add(self, row_id: int, columns: Mapping[str, object]) -> asyncio.Future[bool]:
        """Hand ``row_id`` over to be marked done with ``columns``; the future says (once
        committed) whether it was pending."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row_id, columns, future))
        self._wake.set()
        return future

    def hand_over(self, row_id: int, columns: Mapping[str, object]) -> None:
        """``add`` for a caller that does not wait for the commit: no future is made."""
        self._pending.append((row_id, columns, None))
        self._wake.set()

    async def done(self, row_id: int, columns: Mapping[str, object]) -> bool:
        """Mark ``row_id`` done with ``columns``; True if it was pending. Waits for the commit.

        If the caller is cancelled meanwhile, the row still goes out with its batch: the
        work it stands for was done.
        """
        if self._closed:
            store = self.services.store
            return await q.done(store, self.queue, row_id, now=self.services.now_ms(), **columns)
        return await asyncio.shield(self.add(row_id, columns))

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            if self.linger_s and not self._closed and len(self._pending) < self.max_rows:
                with contextlib.suppress(TimeoutError):  # a close cuts the wait short
                    await asyncio.wait_for(self._closing.wait(), timeout=self.linger_s)
            self._wake.clear()
            written = await self.flush()
            if self._closed:
                return
            if not written:  # the rows are kept: try the same batch again
                with contextlib.suppress(TimeoutError):  # a close cuts the wait short
                    await asyncio.wait_for(self._closing.wait(), timeout=self._delay)
                self._wake.set()

    async def flush(self) -> bool:
        """Write every row handed over so far; False if the database refused (rows kept)."""
        async with self._flushing:
            while self._pending:
                batch = self._pending[: self.max_rows]
                try:
                    finished = await q.done_many(
                        self.services.store,
                        self.queue,
                        [(row_id, columns) for row_id, columns, _ in batch],
                        now=self.services.now_ms(),
                    )
                except Exception as exc:
                    self._delay = self._backoff.failed(exc)
                    return False
                self._backoff.succeeded()
                del self._pending[: len(batch)]
                self.batches += 1
                for row_id, _, future in batch:
                    if future is not None and not future.done():
                        future.set_result(row_id in finished)
        return True

    async def close(self, attempts: int = 3) -> None:
        """Stop the loop and write what is left (a few tries); later rows are written alone."""
        self._closed = True
        if self._task is not None:
            # Let the loop finish the batch it may be writing: cancelling it inside its
            # transaction could leave the database connection unreleased.
            self._closing.set()
            self._wake.set()
            await asyncio.wait([self._task], timeout=10.0)
            if not self._task.done():
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        for _ in range(attempts):
            if await self.flush():
                return
            await asyncio.sleep(self.retry_s)
        log.error(
            "%d %s rows stay leased (not marked done); they will be sent again",
            len(self._pending),
            self.queue.table,
        )


@dataclass
class Worker:
    """Runs every registered queue until ``stop()``; wakes early when ``poke()`` is called."""

    services: Services
    runners: list[QueueRunner]
    periodic: list[tuple[float, Periodic]] = field(default_factory=list)
    poll_seconds: float = 1.0
    stop_deadline: float = 10.0
    #: replaces every queue's lease (``WorkerOptions.lease_ms``)
    lease_ms: int | None = None
    #: one wake-up event per queue table, so finishing an inbox row does not make the
    #: delivery loop run an empty claim (and the other way round)
    _wake: dict[str, asyncio.Event] = field(default_factory=dict)
    #: per queue table: a row finished, so a slot is free
    _freed: dict[str, asyncio.Event] = field(default_factory=dict)
    _stop_event: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False
    _running: dict[int, tuple[q.Queue, asyncio.Task[None]]] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _finishers: dict[str, Finisher] = field(default_factory=dict)
    _unsubscribe: Callable[[], None] | None = None
    #: grouped runners: per key, the rows waiting to be handled alone, and their task
    _chains: dict[str, list[Row]] = field(default_factory=dict)
    _chain_tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    #: per queue table: how many rows handled alone may run at once (``concurrency``)
    _alone_limits: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    #: grouped runners: transactions committed (for tests and metrics)
    groups: int = 0
    #: this worker's heartbeat row, removed at stop (``build_worker`` sets it)
    heartbeat: Heartbeat | None = None

    def finisher(self, queue: q.Queue) -> Finisher | None:
        """The batch finisher of ``queue`` while this worker runs it."""
        return self._finishers.get(queue.table)

    def poke(self, queue: q.Queue | None = None) -> None:
        """New work was queued in this process: look now instead of at the next poll.

        With ``queue``, only that queue's loop wakes (the others would run an empty claim).
        """
        if queue is not None:
            self._event(queue).set()
            self._freed_event(queue).set()
            return
        for event in [*self._wake.values(), *self._freed.values()]:
            event.set()

    def _event(self, queue: q.Queue) -> asyncio.Event:
        return self._wake.setdefault(queue.table, asyncio.Event())

    def _freed_event(self, queue: q.Queue) -> asyncio.Event:
        return self._freed.setdefault(queue.table, asyncio.Event())

    def start(self) -> None:
        """Start every queue's loop and periodic job; wake on the store's ``Wake`` effects."""
        self._unsubscribe = self.services.store.on_commit(Wake, lambda e: self.poke(e.queue))
        for runner in self.runners:
            finisher = Finisher(
                self.services,
                runner.queue,
                linger_s=runner.finish_linger_s,
                waits=runner.finish_waits,
            )
            finisher.start()
            self._finishers[runner.queue.table] = finisher
            loop = self._group_loop(runner) if runner.group_handler else self._loop(runner)
            self._tasks.append(asyncio.create_task(loop))
        for interval, job in self.periodic:
            self._tasks.append(asyncio.create_task(self._every(interval, job)))

    async def stop(self) -> None:
        """Finish in-flight rows within ``stop_deadline``; release the others' leases."""
        self._stopping = True
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.poke()
        self._stop_event.set()
        # Let the loops see the flag and leave on their own: cancelling one in the middle of
        # a claim's transaction would leave its database connection unreleased (databases
        # skips the release when the rollback itself is cancelled). Cancel only stragglers.
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=5.0)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._running:
            running = [t for _, t in self._running.values()]
            await asyncio.wait(running, timeout=self.stop_deadline)
        leftover: dict[q.Queue, list[int]] = {}
        cancelled: list[asyncio.Task[None]] = []
        for row_id, (queue, task) in list(self._running.items()):
            if not task.done():
                task.cancel()
                cancelled.append(task)
                leftover.setdefault(queue, []).append(row_id)
        if cancelled:
            await asyncio.wait(cancelled, timeout=5.0)
        # Rows that were sent are marked done before any lease is released: release only
        # touches rows still pending, so a sent row is never handed to another worker.
        for finisher in self._finishers.values():
            await finisher.close()
        for queue, ids in leftover.items():
            try:
                await q.release(self.services.store, queue, ids)
            except Exception as exc:  # their leases expire instead
                log.error("releasing %s rows failed: %s", queue.table, exc.__class__.__name__)
                continue
            log.info("released %d unfinished %s rows at shutdown", len(ids), queue.table)
        if self.heartbeat is not None:
            await self.heartbeat.stop(self.services)

    async def _every(self, interval: float, job: Periodic) -> None:
        backoff = Backoff(f"periodic job {job.__name__}")
        while not self._stopping:
            wait = interval
            try:
                await job(self.services)
                backoff.succeeded()
            except Exception as exc:
                wait = min(interval, backoff.failed(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), timeout=wait)

    async def _claim(self, runner: QueueRunner, limit: int, backoff: Backoff) -> list[Row] | None:
        """Claim up to ``limit`` due rows of ``runner``'s queue; None when the database is
        away (after waiting out ``backoff``, or until stop): the caller tries again."""
        try:
            rows = await q.claim(
                self.services.store,
                runner.queue,
                now=self.services.now_ms(),
                lease_ms=self.lease_ms or runner.queue.lease_ms,
                limit=limit,
            )
        except Exception as exc:  # the database is away: wait, try again
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), timeout=backoff.failed(exc))
            return None
        backoff.succeeded()
        return rows

    def _free(self, runner: QueueRunner) -> int:
        busy = sum(1 for queue, _ in self._running.values() if queue == runner.queue)
        return runner.concurrency - busy

    async def _loop(self, runner: QueueRunner) -> None:
        """Claim due rows as slots free up, one claim for several slots.

        Two signals: ``wake`` (new work was queued: ``poke``) and ``freed`` (a row finished,
        or ``poke``). While the last claim was full the queue may hold more, so the loop
        refills on ``freed``, waiting up to ``CLAIM_COALESCE_S`` for a few slots to free
        first (a claim is a write transaction: one per freed slot would be one per row).
        Once a claim comes back short the queue is drained of due rows, and only new work
        or the poll wakes it.
        """
        limit = asyncio.Semaphore(runner.concurrency)
        wake = self._event(runner.queue)
        freed = self._freed_event(runner.queue)
        refill = max(1, min(runner.batch, runner.concurrency) // 8)
        backoff = Backoff(f"claim on {runner.queue.table}")
        while not self._stopping:
            # Clear before claiming: a poke that arrives during the claim is kept, not lost.
            wake.clear()
            freed.clear()
            free = self._free(runner)
            asked = min(free, runner.batch)
            rows: list[Row] = []
            if asked > 0:
                claimed = await self._claim(runner, asked, backoff)
                if claimed is None:
                    continue
                rows = claimed
            for row in rows:
                task = asyncio.create_task(self._run_one(runner, row, limit))
                self._running[int(row["id"])] = (runner.queue, task)
            if asked == 0 or (rows and len(rows) >= asked):
                # The queue may hold more due rows.
                if free > len(rows):
                    await asyncio.sleep(0)  # only the batch size stopped this claim
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(freed.wait(), timeout=self.poll_seconds)
                if not self._stopping and self._free(runner) < refill:
                    await asyncio.sleep(CLAIM_COALESCE_S)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=self.poll_seconds)

    async def _group_loop(self, runner: QueueRunner) -> None:
        """Claim a group, handle it (``_run_groups``), claim the next; once a claim comes
        back short, wait for new work or the poll."""
        wake = self._event(runner.queue)
        backoff = Backoff(f"claim on {runner.queue.table}")
        store = self.services.store
        parts = 1 if store.is_sqlite else max(1, runner.group_parts)
        while not self._stopping:
            wake.clear()
            size = runner.group_size(self.services) if runner.group_size else runner.batch
            asked = max(1, size) * (parts if size > 1 else 1)
            rows = await self._claim(runner, asked, backoff)
            if rows is None:
                continue
            if rows:
                await self._run_groups(runner, rows, parts)
                if len(rows) >= asked:
                    continue  # the queue may hold more due rows
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=self.poll_seconds)

    async def _run_groups(self, runner: QueueRunner, rows: list[Row], parts: int) -> None:
        """Split claimed rows by key into ``parts`` groups and run them side by side; rows
        of a key that has rows being handled alone queue up behind those."""
        groups: list[list[Row]] = [[] for _ in range(parts)]
        for row in rows:
            key = str(row[runner.group_key])
            if key in self._chains:
                self._handle_alone(runner, [row])
            else:
                groups[hash(key) % parts].append(row)
        tasks = []
        for group in groups:
            if group:
                task = asyncio.create_task(self._run_group(runner, group))
                for row in group:
                    self._running[int(row["id"])] = (runner.queue, task)
                tasks.append(task)
        if tasks:
            # Cancelling this wait leaves the groups running: stop() waits for them (or
            # cancels them) through ``_running``, as for single rows.
            await asyncio.wait(tasks)

    async def _run_group(self, runner: QueueRunner, rows: list[Row]) -> None:
        """One group: its rows in one transaction, a savepoint each (module docstring).

        First without savepoints (``Store.without_savepoints``); if a row fails after
        writing, the transaction is rolled back and the group runs again with them."""
        queue = runner.queue
        try:
            ran = await self._group_transaction(runner, rows, savepoints=False)
            if ran is None:
                log.debug("%s: a row of a group failed after writing; again with savepoints",
                          queue.table)  # fmt: skip
                ran = await self._group_transaction(runner, rows, savepoints=True)
            assert ran is not None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the transaction itself failed: each row alone
            log.warning(
                "%s: a group of %d rows failed (%s); handling them one by one",
                queue.table,
                len(rows),
                exc.__class__.__name__,
            )
            log.debug("traceback", exc_info=exc)
            self._handle_alone(runner, rows)
            return
        handled, alone = ran
        self.groups += 1
        for row, outcome_type in handled:
            _count(self.services, queue, row, outcome_type)
            self._running.pop(int(row["id"]), None)
        self._handle_alone(runner, alone)

    async def _group_transaction(
        self, runner: QueueRunner, rows: list[Row], *, savepoints: bool
    ) -> tuple[list[tuple[Row, type]], list[Row]] | None:
        """Run the group's transaction once: the rows handled (with their outcome's type)
        and those to handle alone; None (rolled back) when, without ``savepoints``, a row
        failed after writing."""
        assert runner.group_handler is not None
        store = self.services.store
        queue = runner.queue
        handled: list[tuple[Row, type]] = []
        alone: list[Row] = []
        held: set[str] = set()  # keys with a row handled alone: their later rows follow it
        turn = runner.group_turn(self.services, rows) if runner.group_turn else None
        try:
            async with turn if turn is not None else contextlib.nullcontext():
                async with store.transaction():
                    unsaved = None if savepoints else store.without_savepoints()
                    with unsaved if unsaved is not None else contextlib.nullcontext() as state:
                        done: list[tuple[int, dict[str, object]]] = []
                        for row in rows:
                            key = str(row[runner.group_key])
                            if key in held:
                                alone.append(row)
                                continue
                            row_id = int(row["id"])
                            outcome: q.Outcome
                            try:
                                async with store.transaction():  # a savepoint: this row alone
                                    outcome = await runner.group_handler(self.services, row)
                                handled.append((row, type(outcome)))
                            except NeedsNetwork:
                                held.add(key)
                                alone.append(row)
                                continue
                            except Exception as exc:  # its own writes are undone, not others'
                                outcome = self._retry_or_give_up(queue, row, exc)
                                handled.append((row, Exception))
                            finally:
                                if state is not None and state.spoiled:
                                    raise _Spoiled
                            if isinstance(outcome, q.Done):
                                done.append((row_id, dict(outcome.columns)))
                            else:
                                now = self.services.now_ms()
                                await q.apply(store, queue, row_id, outcome, now=now)
                    if done:
                        await q.done_many(store, queue, done, now=self.services.now_ms())
        except _Spoiled:
            return None
        return handled, alone

    def _handle_alone(self, runner: QueueRunner, rows: list[Row]) -> None:
        """Queue ``rows`` (claim order) to be handled one by one, each key's in order."""
        for row in rows:
            key = str(row[runner.group_key])
            chain = self._chains.get(key)
            if chain is None:
                chain = self._chains[key] = []
                self._chain_tasks[key] = asyncio.create_task(self._run_chain(runner, key))
            chain.append(row)
            self._running[int(row["id"])] = (runner.queue, self._chain_tasks[key])

    async def _run_chain(self, runner: QueueRunner, key: str) -> None:
        chain = self._chains[key]
        limit = self._alone_limits.setdefault(
            runner.queue.table, asyncio.Semaphore(runner.concurrency)
        )
        try:
            while chain:
                await self._run_one(runner, chain.pop(0), limit)
        finally:
            self._chains.pop(key, None)
            self._chain_tasks.pop(key, None)

    async def _run_one(
        self, runner: QueueRunner, row: Row, limit: asyncio.Semaphore | None
    ) -> None:
        row_id = int(row["id"])
        try:
            async with limit if limit is not None else contextlib.nullcontext():
                outcome = await runner.handler(self.services, row)
            _count(self.services, runner.queue, row, type(outcome))
            await self._record(runner.queue, row_id, outcome)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            _count(self.services, runner.queue, row, Exception)
            await self._raised(runner.queue, row, exc)
        finally:
            self._running.pop(row_id, None)
            self._freed_event(runner.queue).set()

    async def _record(self, queue: q.Queue, row_id: int, outcome: q.Outcome) -> None:
        """Store ``outcome``: ``Done`` through the queue's batch, the others at once."""
        finisher = self._finishers.get(queue.table)
        if isinstance(outcome, q.Done) and finisher is not None and not finisher.closed:
            if finisher.waits:
                await asyncio.shield(finisher.add(row_id, outcome.columns))
            else:
                finisher.hand_over(row_id, outcome.columns)
            return
        await q.apply(self.services.store, queue, row_id, outcome, now=self.services.now_ms())

    async def _raised(self, queue: q.Queue, row: Row, exc: Exception) -> None:
        """A handler raised: the queue's retry policy decides (back off, or give up)."""
        row_id = int(row["id"])
        outcome = self._retry_or_give_up(queue, row, exc)
        try:
            await q.apply(self.services.store, queue, row_id, outcome, now=self.services.now_ms())
        except Exception as failed:  # the row keeps its lease and comes back after it
            log.error(
                "%s row %d: recording the retry failed: %s",
                queue.table,
                row_id,
                failed.__class__.__name__,
            )

    def _retry_or_give_up(self, queue: q.Queue, row: Row, exc: Exception) -> q.Outcome:
        """What a row whose handler raised ``exc`` gets: the queue's retry policy decides
        (back off, or give up after its attempt cap); logged, the traceback at DEBUG."""
        row_id = int(row["id"])
        attempts = int(row["attempts"])
        policy = queue.retry
        outcome: q.Outcome
        if policy.max_attempts is not None and attempts >= policy.max_attempts:
            log.warning(
                "%s row %d raised %s; giving up after %d attempts",
                queue.table,
                row_id,
                exc.__class__.__name__,
                attempts,
            )
            outcome = q.GiveUp("too many attempts")
        else:
            delay = policy.delay_ms(attempts)
            log.warning(
                "%s row %d raised %s; retrying in %ds",
                queue.table,
                row_id,
                exc.__class__.__name__,
                delay // 1000,
            )
            outcome = q.Retry(self.services.now_ms() + delay, exc.__class__.__name__)
        log.debug("traceback", exc_info=exc)
        return outcome


class _Spoiled(Exception):
    """A row of a group run without savepoints failed after writing: roll the group back."""


#: The metrics' word for each outcome (``Exception``: the handler raised), per queue.
_INBOX_OUTCOMES: dict[type, str] = {
    q.Done: "handled",
    q.Retry: "retry",
    q.GiveUp: "failed",
    q.Defer: "deferred",
    Exception: "raised",
}
_DELIVERY_OUTCOMES: dict[type, str] = {
    q.Done: "delivered",
    q.Retry: "retry",
    q.GiveUp: "gave-up",
    q.Defer: "deferred",
    Exception: "raised",
}


def _count(services: Services, queue: q.Queue, row: Row, outcome: type) -> None:
    """Count a worked row for the metrics (``fedi_town.metrics``); never raises."""
    metrics = services.metrics
    if not metrics.on:
        return
    if queue is q.DELIVERIES:
        metrics.delivery(_DELIVERY_OUTCOMES.get(outcome, "other"))
    elif queue is q.INBOX:
        kind = str(row["type"])
        outcome_word = _INBOX_OUTCOMES.get(outcome, "other")
        metrics.inbox_handled(kind if kind in HANDLERS else "other", outcome_word)


#: Deliveries in flight per worker process. They wait on the network, not the CPU, so this
#: is sized for slow servers: 100 servers holding a slot for a 10 s timeout each still leave
#: most slots to the healthy ones (at 32, they held every slot: 31 s instead of 6 s in the
#: bench). RemoteClient's connection pool is larger, so it is never the choke point.
DELIVERY_CONCURRENCY = 128

#: Sent rows gather this long before one commit marks them all done (seconds). A handler
#: does not wait for it; the rows keep their lease until then (see ``Finisher``).
FINISH_LINGER_S = 0.01

#: Pushes to apps' push services at once (each is one small POST).
PUSH_CONCURRENCY = 16

#: Which handler works which queue, and how many rows at once.
RUNNERS = (
    QueueRunner(
        q.INBOX,
        handle_inbox_item,
        concurrency=16,
        group_handler=handle_in_group,
        group_size=group_size,
        group_turn=group_turn,
    ),
    QueueRunner(
        q.DELIVERIES,
        handle_delivery,
        concurrency=DELIVERY_CONCURRENCY,
        finish_linger_s=FINISH_LINGER_S,
        finish_waits=False,
    ),
    QueueRunner(q.PUSHES, handle_push, concurrency=PUSH_CONCURRENCY),
)

#: How often the worker looks for scheduled posts whose time has come (seconds).
PUBLISH_EVERY = 2.0


async def publish_due_posts(services: Services) -> None:
    await publish_due(services)


async def update_polls(services: Services) -> None:
    """Polls' new counts (and closes) to those who got them (``outbound/polls.py``)."""
    await send_poll_updates(services)


class Cleanup:
    """The cleanup of old rows (every ``retention.EVERY_S``): one ``retention.sweep``.

    Bodies are looked at from a little before the previous sweep on (rows finished since),
    so each sweep reads only the new done rows of the index."""

    def __init__(self) -> None:
        self.bodies_since = 0

    async def sweep_old_rows(self, services: Services, now: int | None = None) -> None:
        """One sweep at ``now`` (ms; default: the services' clock)."""
        started = services.now_ms() if now is None else now
        keep_days = services.settings.retention_days
        swept = await retention.sweep(
            services.store,
            now=started,
            keep_days=keep_days,
            bodies_since=self.bodies_since,
            timeline_days=services.settings.timeline_days,
        )
        await stream_events.prune(services.store, before=started - stream_events.KEEP_MS)
        await push_store.prune(
            services.store, before=retention.cutoff(q.PUSHES, started, keep_days)
        )
        # A row finished during this sweep has next_attempt_at <= its claim time, which may
        # be up to a lease (two minutes) before; look back past that next time.
        self.bodies_since = started - 10 * 60_000
        if swept.inbox_items or swept.deliveries or swept.activities:
            log.info(
                "retention: deleted %d inbox items, %d deliveries, %d activities",
                swept.inbox_items,
                swept.deliveries,
                swept.activities,
            )
        if swept.timeline or swept.notes:
            log.info(
                "retention: deleted %d timeline entries, %d notes no longer shown",
                swept.timeline,
                swept.notes,
            )


#: How often a worker writes its heartbeat (seconds); ``/readyz`` wants one from some worker
#: within ``read.health.HEARTBEAT_FRESH_S`` (four beats).
HEARTBEAT_EVERY_S = 15.0


class Heartbeat:
    """This worker's row in ``worker_heartbeats`` (``store.heartbeats``): written at start
    and every ``HEARTBEAT_EVERY_S``, removed at a clean stop. The id names the host and
    process (for an operator reading the table) plus a random part (unique per start)."""

    def __init__(self) -> None:
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

    async def beat(self, services: Services) -> None:
        await heartbeats.beat(services.store, self.worker_id, services.now_ms())

    async def stop(self, services: Services) -> None:
        try:
            await heartbeats.forget(services.store, self.worker_id)
        except Exception as exc:  # the row goes stale instead
            log.error("removing the worker's heartbeat failed: %s", exc.__class__.__name__)


async def refresh_actors(services: Services) -> None:
    """Actors whose time-dependent fields changed (open now, notices) go to followers."""
    await refresh_due_profiles(services)


def build_worker(services: Services) -> Worker:
    """The worker of every queue (``RUNNERS``), the scheduled-post publisher and the
    cleanup of old rows (``store.retention``, after each queue's ``delete_after``)."""
    options = services.worker
    heartbeat = Heartbeat()
    periodic: list[tuple[float, Periodic]] = [
        (HEARTBEAT_EVERY_S, heartbeat.beat),
        (PUBLISH_EVERY, publish_due_posts),
        (SEND_EVERY, update_polls),
        (REFRESH_EVERY, refresh_actors),
        (retention.EVERY_S, Cleanup().sweep_old_rows),
    ]
    return Worker(
        services,
        list(RUNNERS),
        periodic,
        poll_seconds=options.poll_seconds,
        stop_deadline=options.stop_deadline,
        lease_ms=options.lease_ms,
        heartbeat=heartbeat,
    )


def running(services: Services) -> Worker | None:
    """This process's running worker, if any."""
    return services.parts.find(Worker)


async def start_in_process(services: Services) -> None:
    """Run the worker in this process unless configured off (``FEDI_TOWN_WORKER``)."""
    if services.settings.worker != "in-process" and not services.worker.standalone:
        return
    worker = build_worker(services)
    services.parts.get(Worker, lambda: worker)
    worker.start()


async def stop_in_process(services: Services) -> None:
    worker = services.parts.pop(Worker)
    if worker is not None:
        await worker.stop()
