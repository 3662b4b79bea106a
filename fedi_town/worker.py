"""The worker: claims due rows from each queue and runs their handler.

By default it runs inside the web process (``FEDI_TOWN_WORKER=in-process``). With PostgreSQL,
``fedi-town worker`` runs it as its own process, as many as wanted: the queue's
``FOR UPDATE SKIP LOCKED`` claim keeps them from taking the same row.

A handler gets one claimed row and decides its fate itself (``mark_done``, or
``queue.retry/fail``); if it raises, the row is retried with backoff and the error class
recorded, never the message (messages can carry remote content). On stop, rows still running
get ``stop_deadline`` seconds to finish; the rest have their lease released so another worker
takes them at once.

**Batched finishing.** ``mark_done`` hands the row to its queue's ``Finisher``, which marks
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
import dataclasses
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fedi_town.services import Services
from fedi_town.store import queue as q
from fedi_town.store import retention
from fedi_town.store.db import Row, now_ms

log = logging.getLogger(__name__)

Handler = Callable[[Services, Row], Awaitable[None]]

#: When few slots are free, wait this long for more before claiming (seconds).
CLAIM_COALESCE_S = 0.01
#: Longest wait between two tries while the database keeps failing (seconds).
MAX_BACKOFF_S = 5.0
Periodic = Callable[[Services], Awaitable[None]]


@dataclass
class QueueRunner:
    """How one queue is worked: its handler, how many rows at once, how long a lease lasts."""

    queue: q.Queue
    handler: Handler
    concurrency: int = 16
    lease_ms: int = 120_000
    batch: int = 64
    #: finished rows: how long to gather them before a commit, and whether a handler waits
    #: for its row's commit (see ``Finisher``)
    finish_linger_s: float = 0.0
    finish_waits: bool = True


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
        self._pending: list[tuple[int, dict[str, object], asyncio.Future[bool]]] = []
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

    def add(self, row_id: int, columns: dict[str, object]) -> asyncio.Future[bool]:
        """Hand ``row_id`` over to be marked done with ``columns``; the future says (once
        committed) whether it was pending."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row_id, columns, future))
        self._wake.set()
        return future

    async def done(self, row_id: int, columns: dict[str, object]) -> bool:
        """Mark ``row_id`` done with ``columns``; True if it was pending. Waits for the commit.

        If the caller is cancelled meanwhile, the row still goes out with its batch: the
        work it stands for was done.
        """
        if self._closed:
            store = self.services.store
            return await q.done(store, self.queue, row_id, now=now_ms(), **columns)
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
                        now=now_ms(),
                    )
                except Exception as exc:
                    self._delay = self._backoff.failed(exc)
                    return False
                self._backoff.succeeded()
                del self._pending[: len(batch)]
                self.batches += 1
                for row_id, _, future in batch:
                    if not future.done():
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
        for runner in self.runners:
            finisher = Finisher(
                self.services,
                runner.queue,
                linger_s=runner.finish_linger_s,
                waits=runner.finish_waits,
            )
            finisher.start()
            self._finishers[runner.queue.table] = finisher
            self._tasks.append(asyncio.create_task(self._loop(runner)))
        for interval, job in self.periodic:
            self._tasks.append(asyncio.create_task(self._every(interval, job)))

    async def stop(self) -> None:
        """Finish in-flight rows within ``stop_deadline``; release the others' leases."""
        self._stopping = True
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
                try:
                    rows = await q.claim(
                        self.services.store,
                        runner.queue,
                        now=now_ms(),
                        lease_ms=runner.lease_ms,
                        limit=asked,
                    )
                    backoff.succeeded()
                except Exception as exc:  # the database is away: wait, try again
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop_event.wait(), timeout=backoff.failed(exc))
                    continue
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

    async def _run_one(self, runner: QueueRunner, row: Row, limit: asyncio.Semaphore) -> None:
        row_id = int(row["id"])
        try:
            async with limit:
                await runner.handler(self.services, row)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            attempts = int(row["attempts"])
            delay = min(3600_000, 5_000 * 2 ** min(attempts, 10))
            log.warning(
                "%s row %d raised %s; retrying in %ds",
                runner.queue.table,
                row_id,
                exc.__class__.__name__,
                delay // 1000,
            )
            log.debug("traceback", exc_info=exc)
            try:
                await q.retry(
                    self.services.store,
                    runner.queue,
                    row_id,
                    next_attempt_at=now_ms() + delay,
                    last_error=exc.__class__.__name__,
                )
            except Exception as failed:  # the row keeps its lease and comes back after it
                log.error(
                    "%s row %d: recording the retry failed: %s",
                    runner.queue.table,
                    row_id,
                    failed.__class__.__name__,
                )
        finally:
            self._running.pop(row_id, None)
            self._freed_event(runner.queue).set()


def build_worker(services: Services) -> Worker:
    """The worker with every queue and periodic job the installed modules register."""
    runners: list[QueueRunner] = list(services.extras.get("queue_runners", []))
    lease_ms = services.extras.get("worker_lease_ms")  # tests: leases that pass in seconds
    if lease_ms is not None:
        runners = [dataclasses.replace(runner, lease_ms=int(lease_ms)) for runner in runners]
    periodic: list[tuple[float, Periodic]] = list(services.extras.get("periodic_jobs", []))
    periodic.append((retention.EVERY_S, retention.sweep_old_rows))  # after retention_days
    worker = Worker(services, runners, periodic)
    worker.poll_seconds = float(services.extras.get("worker_poll_seconds", worker.poll_seconds))
    worker.stop_deadline = float(services.extras.get("worker_stop_deadline", worker.stop_deadline))
    return worker


async def start_in_process(services: Services) -> None:
    """Startup hook: run the worker inside the web process unless configured off."""
    if services.settings.worker != "in-process" and not services.extras.get("standalone_worker"):
        return
    worker = build_worker(services)
    services.extras["worker"] = worker
    worker.start()


async def stop_in_process(services: Services) -> None:
    worker: Worker | None = services.extras.pop("worker", None)
    if worker is not None:
        await worker.stop()


async def mark_done(services: Services, queue: q.Queue, row_id: int, **columns: object) -> None:
    """Mark a claimed row done (extra ``columns`` stored with it).

    Goes through this process's worker's ``Finisher`` (one commit for many rows) when there
    is one, else straight to storage; returns after the commit unless that queue's runner
    says ``finish_waits=False``.
    """
    worker: Worker | None = services.extras.get("worker")
    finisher = worker.finisher(queue) if worker is not None else None
    if finisher is None or finisher.closed:
        await q.done(services.store, queue, row_id, now=now_ms(), **columns)
    elif finisher.waits:
        await asyncio.shield(finisher.add(row_id, columns))
    else:
        finisher.add(row_id, columns)


def poke(services: Services, queue: q.Queue | None = None) -> None:
    """Tell this process's worker that new work was queued in ``queue`` (default: any)."""
    worker: Worker | None = services.extras.get("worker")
    if worker is not None:
        worker.poke(queue)


def run_standalone(services: Services, *, ready: Callable[[], Any] | None = None) -> int:
    """Run only the worker until SIGTERM/SIGINT (``fedi-town worker``)."""
    from fedi_town import lifecycle
    from fedi_town.app import shutdown, startup

    services.extras["standalone_worker"] = True
    lifecycle.install(services)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await startup(services)
        log.info("worker %d running", os.getpid())
        if ready is not None:
            ready()
        await stop.wait()
        log.info("worker %d stopping", os.getpid())
        await shutdown(services)

    asyncio.run(main())
    return 0
