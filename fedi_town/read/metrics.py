"""``GET /metrics``: the Prometheus text format, for whoever runs the instance.

    404   metrics are off (``FEDI_TOWN_METRICS_TOKEN`` unset): as if there were no such page
    401   no ``Authorization: Bearer <token>``, or another token (compared in constant time)
    200   the counts of this process, or of every process sharing ``FEDI_TOWN_METRICS_DIR``,
          then each queue's backlog read from the database now (``store.queue.backlog``):
          right however many processes run, and never a figure a process forgot to update

What each figure means: docs/operations.md, "Metrics". If the database does not answer
within ``DATABASE_TIMEOUT_S`` the counts still come, with ``fedi_town_database_up 0`` and
no queue figures (a scrape must not hang on the outage it should report). Never cached.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound, Unauthorized
from fedi_town.metrics import MEDIA_TYPE, Gauge, token_matches
from fedi_town.services import Services
from fedi_town.store import queue as q

log = logging.getLogger(__name__)

#: The database must answer the backlog queries within this (seconds).
DATABASE_TIMEOUT_S = 2.0


async def queue_gauges(services: Services) -> list[Gauge]:
    """Each queue's pending rows, due rows and oldest due age, read now; with
    ``database_up`` 1, or only ``database_up`` 0 when the database does not answer."""
    now = services.now_ms()
    try:
        backlogs = await asyncio.wait_for(_read(services, now), timeout=DATABASE_TIMEOUT_S)
    except Exception as exc:  # the outage is the figure
        log.warning("metrics: queue backlog not read: %s", exc.__class__.__name__)
        return [_database_up(0)]
    return [
        _database_up(1),
        Gauge(
            "queue_pending",
            "Rows waiting in a queue or being worked (state pending).",
            ("queue",),
            [((table,), b.pending) for table, b in backlogs],
        ),
        Gauge(
            "queue_due",
            "Pending rows whose time has come (waiting for a worker, or being worked).",
            ("queue",),
            [((table,), b.due) for table, b in backlogs],
        ),
        Gauge(
            "queue_oldest_due_age_seconds",
            "How long the oldest due row of a queue has been due (0: none is).",
            ("queue",),
            [
                ((table,), 0 if b.oldest_due_at is None else (now - b.oldest_due_at) / 1000)
                for table, b in backlogs
            ],
        ),
    ]


def _database_up(value: int) -> Gauge:
    return Gauge("database_up", "Whether this scrape could read the database.", (), [((), value)])


async def _read(services: Services, now: int) -> list[tuple[str, q.Backlog]]:
    return [(queue.table, await q.backlog(services.store, queue, now=now)) for queue in q.QUEUES]


async def metrics(request: Request) -> Response:
    """The text format to the metrics token's bearer; 404 with metrics off, else 401."""
    services: Services = request.app.state.services
    token = services.settings.metrics_token
    if not services.metrics.on:
        raise NotFound("no such page")
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not token_matches(given.strip(), token):
        raise Unauthorized("GET /metrics needs the metrics bearer token")
    body = services.metrics.render(await queue_gauges(services))
    return Response(body, media_type=MEDIA_TYPE, headers={"Cache-Control": "no-store"})


routes = [Route("/metrics", metrics, methods=["GET"])]
