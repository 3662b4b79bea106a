"""Register the inbound side with the app: the inbox queue's handler, the key cache and
the fetch guard the read side calls (``services.extras["fetch_guard"]``)."""

from __future__ import annotations

from fedi_town.inbound.dispatch import handle_inbox_item
from fedi_town.inbound.fetch_guard import fetch_guard
from fedi_town.inbound.signatures import key_cache
from fedi_town.services import Services
from fedi_town.store import queue as q
from fedi_town.worker import QueueRunner


def install(services: Services) -> None:
    services.extras.setdefault("queue_runners", []).append(
        QueueRunner(q.INBOX, handle_inbox_item, concurrency=16, lease_ms=120_000)
    )
    services.extras["fetch_guard"] = fetch_guard
    key_cache(services)
