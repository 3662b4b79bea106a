"""Threads that sign requests beside the event loop.

``cryptography`` releases the GIL while OpenSSL signs, so signing threads use the other
cores while the event loop sends. A ``concurrent.futures`` pool costs a thread-safe Future
with its Condition plus a chained asyncio future per call, about a tenth of a delivery's
event-loop time in ``bench.fanout``'s profile; here a call is one queue put, and the answer
comes back by one ``call_soon_threadsafe``. Threads start with the first call, so a process
that never signs has none; they end at ``shutdown``, or when the pool is garbage (they hold
the queue, not the pool).
"""

from __future__ import annotations

import asyncio
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]


class SigningPool:
    """``threads`` daemon threads running the calls handed to ``run``, first come first."""

    def __init__(self, threads: int, name: str = "fedi-town-sign") -> None:
        self.size = threads
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        self._started = [0]  # shared with the finalizer, which must not hold the pool
        weakref.finalize(self, _stop, self._jobs, self._started)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in one of the threads; its result or its exception."""
        if self._closed:
            raise RuntimeError("the signing pool is shut down")
        if len(self._threads) < self.size:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, function, args))
        return await future

    def shutdown(self) -> None:
        """Let the threads end once the calls already handed over are done."""
        with self._lock:
            self._closed = True
            _stop(self._jobs, self._started)

    def _start(self) -> None:
        with self._lock:
            while not self._closed and len(self._threads) < self.size:
                thread = threading.Thread(
                    target=_work,
                    args=(self._jobs,),
                    name=f"{self._name}_{len(self._threads)}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
                self._started[0] += 1


def _work(jobs: queue.SimpleQueue[_Job | None]) -> None:
    while (job := jobs.get()) is not None:
        loop, future, function, args = job
        try:
            result = function(*args)
        except BaseException as exc:  # handed to the caller, who raises it
            _answer(loop, _set_exception, future, exc)
        else:
            _answer(loop, _set_result, future, result)
        del job, loop, future, function, args  # hold nothing while waiting for the next


def _stop(jobs: queue.SimpleQueue[_Job | None], started: list[int]) -> None:
    """One end-of-work mark per thread started (and not yet told)."""
    for _ in range(started[0]):
        jobs.put(None)
    started[0] = 0


def _answer(
    loop: asyncio.AbstractEventLoop,
    setter: Callable[[asyncio.Future[Any], Any], None],
    future: asyncio.Future[Any],
    value: Any,
) -> None:
    try:
        loop.call_soon_threadsafe(setter, future, value)
    except RuntimeError:  # the loop is closed: nobody waits any more
        pass


def _set_result(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # the caller may have been cancelled meanwhile
        future.set_result(result)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
