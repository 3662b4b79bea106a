"""``/healthz`` and ``/readyz``: for a service manager, a load balancer or a monitor.

    GET /healthz   200 {"status": "ok"}: the process answers. Touches nothing else, so a
                   database outage never gets a healthy process restarted.
    GET /readyz    200 {"status": "ready", "checks": {...}} when all of these hold, else 503
                   {"status": "unready", "not_ready": [...], "checks": {...}}:
                   - database: a trivial query answers within ``DATABASE_TIMEOUT_S``;
                   - migrations: the database is at ``migrations.LATEST_VERSION``;
                   - worker: some worker beat within ``HEARTBEAT_FRESH_S``
                     (``store.heartbeats``), in this process or another.

The worker check holds with ``FEDI_TOWN_WORKER=off`` too: queued work (deliveries, inbox
handling) is then a ``fedi-town worker``'s, and an instance whose queue nobody works is not
ready, whichever process should be working it. Each check's value is ``"ok"``, a few words
saying what is wrong (never an exception's message: these answers are public), or
``"not checked: …"`` when an earlier check failed (a stopped database leaves the migrations
unknown); ``not_ready`` lists only the checks that failed. Neither
answer is cached (``Cache-Control: no-store``; the fast path keeps only what ``read.cache``
is told to). A change of readiness is logged once, not every probe.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import ProblemError
from fedi_town.services import Services
from fedi_town.store import heartbeats, migrations
from fedi_town.store.health import unavailable_reason
from fedi_town.web import json_response

log = logging.getLogger(__name__)

#: The database must answer the probe's queries within this (seconds).
DATABASE_TIMEOUT_S = 2.0
#: A worker's heartbeat counts as recent for this long (seconds): four beats
#: (``worker.HEARTBEAT_EVERY_S``), so one slow beat is no outage.
HEARTBEAT_FRESH_S = 60
NO_STORE = {"Cache-Control": "no-store"}
OK = "ok"
#: the verdict of a check that depends on one that failed (not listed as not ready)
UNCHECKED = "not checked"
NOT_CHECKED = f"{UNCHECKED}: the database does not answer"


@dataclass(frozen=True)
class Readiness:
    """Each check's verdict (``OK``, what is wrong, or ``UNCHECKED`` when an earlier check
    failed), in the order they are made."""

    database: str
    migrations: str
    worker: str

    def checks(self) -> dict[str, str]:
        return {"database": self.database, "migrations": self.migrations, "worker": self.worker}

    def not_ready(self) -> list[str]:
        """The checks that failed (not those left unchecked because of them)."""
        checks = self.checks().items()
        return [name for name, verdict in checks if verdict != OK and not _unchecked(verdict)]

    def ready(self) -> bool:
        return all(verdict == OK for verdict in self.checks().values())


def _unchecked(verdict: str) -> bool:
    return verdict.startswith(UNCHECKED)


def migrations_verdict(applied: int, latest: int = migrations.LATEST_VERSION) -> str:
    """``OK`` when the database is at ``latest``, else what to do about it."""
    if applied == latest:
        return OK
    if applied < latest:
        return f"at version {applied} of {latest}: run fedi-town migrate"
    return f"at version {applied}, newer than this fedi-town ({latest}): upgrade it"


def worker_verdict(last_beat_ms: int | None, now_ms: int) -> str:
    """``OK`` when a worker beat within ``HEARTBEAT_FRESH_S`` of ``now_ms``."""
    if last_beat_ms is None:
        return "no worker has run: start fedi-town worker or set FEDI_TOWN_WORKER=in-process"
    age_s = (now_ms - last_beat_ms) // 1000
    if age_s > HEARTBEAT_FRESH_S:
        return f"no worker heartbeat for {age_s} s"
    return OK


def _database_verdict(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {DATABASE_TIMEOUT_S:g} s"
    cause = exc.__cause__ if isinstance(exc, ProblemError) and exc.__cause__ else exc
    reason = unavailable_reason(cause)
    return reason or f"failed ({cause.__class__.__name__})"


async def readiness(services: Services) -> Readiness:
    """Ask the database, then (if it answered) its migrations and the workers' heartbeats."""
    store = services.store
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_S):
            await store.fetch_val("SELECT 1")
            applied = await migrations.applied_version(store)
            last_beat = (
                await heartbeats.last_beat(store) if applied >= heartbeats.SINCE_VERSION else None
            )
    except Exception as exc:
        return Readiness(_database_verdict(exc), NOT_CHECKED, NOT_CHECKED)
    schema = migrations_verdict(applied)
    if applied < heartbeats.SINCE_VERSION:  # no heartbeats' table yet
        return Readiness(OK, schema, f"{UNCHECKED}: the database is not migrated")
    return Readiness(OK, schema, worker_verdict(last_beat, services.now_ms()))


@dataclass
class _LastVerdict:
    """What this process's last ``/readyz`` said, to log changes only."""

    not_ready: list[str] | None = None


def _note(services: Services, found: Readiness) -> None:
    last = services.parts.get(_LastVerdict, _LastVerdict)
    not_ready = found.not_ready()
    if not_ready == last.not_ready:
        return
    if not_ready:
        checks = found.checks()
        log.warning("not ready: %s", "; ".join(f"{n}: {checks[n]}" for n in not_ready))
    elif last.not_ready is not None:
        log.info("ready again")
    last.not_ready = not_ready


async def healthz(request: Request) -> Response:
    return json_response({"status": "ok"}, headers=NO_STORE)


async def readyz(request: Request) -> Response:
    services: Services = request.app.state.services
    found = await readiness(services)
    _note(services, found)
    if not found.ready():
        body = {"status": "unready", "not_ready": found.not_ready(), "checks": found.checks()}
        return json_response(body, 503, headers=NO_STORE)
    return json_response({"status": "ready", "checks": found.checks()}, headers=NO_STORE)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
