"""Register the outbound side's background work with the worker."""

from __future__ import annotations

from fedi_town.outbound.deliver import handle_delivery
from fedi_town.services import Services
from fedi_town.store import queue as q
from fedi_town.worker import QueueRunner


def install(services: Services) -> None:
    services.extras.setdefault("queue_runners", []).append(
        QueueRunner(q.DELIVERIES, handle_delivery, concurrency=32, lease_ms=120_000)
    )
