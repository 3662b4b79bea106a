"""Start and stop: what runs beside the routes, in order, and the standalone worker.

``startup`` connects the database, migrates it, then starts in order: the instance actor's
key, the outbound HTTP client, the read side's cache listening to after-commit effects, and
the worker (unless ``FEDI_TOWN_WORKER=off``). ``shutdown`` stops them in reverse: the worker
first, then the inbox writer stores what it was handed (rows for the worker's queue, so after
the worker and before the database closes), the HTTP client, and the database last.
``run_worker`` is ``fedi-town worker``: the same start and stop with only the worker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
import resource
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypedDict

from fedi_town import __version__, instance, worker
from fedi_town.errors import ConfigError, ProblemError
from fedi_town.inbound.group_commit import close_inbox_writer
from fedi_town.read import cache
from fedi_town.remote.http import RemoteClient, delivery_idle_connections
from fedi_town.services import Services
from fedi_town.store.health import cannot_connect
from fedi_town.store.migrations import migrate

log = logging.getLogger(__name__)


@dataclass
class _Listening:
    """The after-commit subscriptions made at start, ended at stop."""

    ends: list[Callable[[], None]] = field(default_factory=list)


class ClientLimits(TypedDict):
    max_connections: int
    max_keepalive_connections: int
    delivery_keepalive_connections: int


#: The open-file soft limit ``raise_open_file_limit`` asks for, within the hard limit.
OPEN_FILES_WANTED = 65_536


#: The cyclic collector's first threshold in ``serve`` and ``worker`` (CPython's default: 700
#: allocations). A delivery allocates a few hundred container objects, nearly all freed by
#: reference counting, so at 700 the collector ran several times per delivery and moved the
#: rows and requests in flight into older generations, whose full passes over the process's
#: objects came every second or two (~10% of a fan-out's CPU, measured with gc.callbacks).
COLLECTOR_THRESHOLD = 10_000


def settle_heap(threshold: int = COLLECTOR_THRESHOLD) -> None:
    """Before serving: collect once, freeze what is alive (modules, routes, templates: the
    collector no longer walks them; ``gc.freeze``), and raise the collector's first
    threshold to ``threshold``. Garbage cycles are still collected, later and in fewer
    passes. Called by ``serve`` (each web process) and ``worker``, not by a library user."""
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(threshold, second, third)


def raise_open_file_limit(wanted: int = OPEN_FILES_WANTED) -> tuple[int, int]:
    """Raise this process's soft ``RLIMIT_NOFILE`` towards ``wanted``, within the hard limit
    (as Go programs do at start); the (before, after) soft limits.

    systemd starts services with a soft limit of 1,024 under a hard limit of 524,288: the
    soft one is kept low only for programs that still use ``select()``, which fedi-town does
    not (asyncio and uvloop poll with epoll). The delivery client keeps a quarter of the soft
    limit as idle connections (``delivery_idle_connections``), so at 1,024 a fan-out to
    1,000 servers keeps 256 and opens a new connection for most deliveries. Called by
    ``serve`` and ``worker`` before anything opens a connection; children inherit it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:  # a container may refuse; keep what we have
            log.warning("could not raise the open-file limit from %d: %s", soft, exc)
            return soft, soft
        return soft, target
    return soft, soft


def client_limits() -> ClientLimits:
    """The outbound client's connection limits (``bench.delivery_ceiling`` uses them too)."""
    return {
        # above the delivery concurrency (worker.DELIVERY_CONCURRENCY), plus room for fetches
        "max_connections": 256,
        "max_keepalive_connections": 64,
        # enough for a fan-out to come back to each server on the connection it left
        "delivery_keepalive_connections": delivery_idle_connections(),
    }


async def open_client(services: Services) -> None:
    if services.remote is None:
        services.remote = RemoteClient(
            allow_private=services.settings.allow_private_addresses,
            user_agent=f"fedi-town/{__version__} (+{services.urls.base}/)",
            clock=services.clock,
            sign_threads=services.settings.sign_threads,
            **client_limits(),
        )


async def close_client(services: Services) -> None:
    if services.remote is not None:
        await services.remote.close()
        services.remote = None


async def listen(services: Services) -> None:
    services.parts.get(_Listening, _Listening).ends.append(cache.follow_changes(services))


async def stop_listening(services: Services) -> None:
    listening = services.parts.pop(_Listening)
    for end in listening.ends if listening is not None else []:
        end()


Step = Callable[[Services], Awaitable[None]]

#: (start, stop) in start order; stops run in reverse.
STEPS: tuple[tuple[Step | None, Step | None], ...] = (
    (instance.ensure_instance_key, None),
    (open_client, close_client),
    (listen, stop_listening),
    (None, close_inbox_writer),  # made on the first POST; stops after the worker
    (worker.start_in_process, worker.stop_in_process),
)


async def startup(services: Services) -> None:
    """Connect, migrate and start what runs beside the web server.

    A start that fails undoes itself: what started is stopped and the database is closed
    (SQLite's connection threads would otherwise keep the process alive after the server
    gave up), then the error goes on to the caller, which exits.
    """
    await services.store.connect()
    try:
        await migrate(services.store)
        for start, _ in STEPS:
            if start is not None:
                await start(services)
    except BaseException as exc:
        log.error("start failed: %s", describe_failure(exc))
        await shutdown(services)
        raise


async def shutdown(services: Services) -> None:
    """Stop what ``startup`` started, in reverse, and close the database. Every step runs
    even when an earlier one fails (a stop after a failed start meets half-started parts)."""
    for _, stop in reversed(STEPS):
        if stop is None:
            continue
        try:
            await stop(services)
        except Exception as exc:
            log.error("stopping %s failed: %s", stop.__name__, exc.__class__.__name__)
    await services.store.disconnect()


def describe_failure(exc: BaseException) -> str:
    """One line naming why a start failed (the database's own words for storage trouble),
    for the log and the terminal, instead of a traceback."""
    if isinstance(exc, ConfigError):  # written for people; it names the setting
        return _first_line(exc)
    cause = exc.__cause__ if isinstance(exc, ProblemError) and exc.__cause__ else exc
    if cannot_connect(cause):
        return (
            "cannot connect to the database of FEDI_TOWN_DATABASE_URL "
            f"({cause.__class__.__name__}: {_first_line(cause)})"
        )
    if isinstance(exc, ProblemError):
        detail = f"{exc.detail} ({cause.__class__.__name__}: {_first_line(cause)})"
        return detail if cause is not exc else exc.detail
    return f"{exc.__class__.__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else "no detail"


def run_worker(services: Services, *, ready: Callable[[], Any] | None = None) -> int:
    """Run only the worker until SIGTERM/SIGINT (``fedi-town worker``)."""
    services.worker = dataclasses.replace(services.worker, standalone=True)

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
