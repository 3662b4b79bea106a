"""Register the inbound side with the app: the inbox queue's handler and the inbox
writer's stop hook."""

from __future__ import annotations

from fedi_town import lifecycle
from fedi_town.inbound.dispatch import handle_inbox_item
from fedi_town.inbound.group_commit import close_inbox_writer
from fedi_town.services import Services
from fedi_town.store import queue as q
from fedi_town.worker import QueueRunner


def install(services: Services) -> None:
    services.extras.setdefault("queue_runners", []).append(
        QueueRunner(q.INBOX, handle_inbox_item, concurrency=16, lease_ms=120_000)
    )
    # The writer is made on the first POST; at stop it stores what it was handed (it stops
    # after the worker, which is registered last, and before the database closes).
    lifecycle.add_hooks(services, stop=close_inbox_writer)
