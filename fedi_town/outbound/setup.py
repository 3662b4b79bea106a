"""Register the outbound side with the app: the delivery queue, the scheduled-post job and
the profile hooks the businesses API calls."""

from __future__ import annotations

from fedi_town.outbound import commands, profile
from fedi_town.outbound.deliver import handle_delivery
from fedi_town.services import Services
from fedi_town.store import queue as q
from fedi_town.worker import QueueRunner

#: Deliveries in flight per worker process. They wait on the network, not the CPU, so this
#: is sized for slow servers: 100 servers holding a slot for a 10 s timeout each still leave
#: most slots to the healthy ones (at 32, they held every slot: 31 s instead of 6 s in the
#: bench). RemoteClient's connection pool is larger, so it is never the choke point.
DELIVERY_CONCURRENCY = 128

#: Sent rows gather this long before one commit marks them all done (seconds). A handler
#: does not wait for it; the rows keep their lease until then (see worker.Finisher).
FINISH_LINGER_S = 0.01

#: How often the worker looks for scheduled posts whose time has come (seconds).
PUBLISH_EVERY = 2.0


async def publish_due_posts(services: Services) -> None:
    await commands.publish_due(services)


def install(services: Services) -> None:
    services.extras.setdefault("queue_runners", []).append(
        QueueRunner(
            q.DELIVERIES,
            handle_delivery,
            concurrency=DELIVERY_CONCURRENCY,
            lease_ms=120_000,
            finish_linger_s=FINISH_LINGER_S,
            finish_waits=False,
        )
    )
    services.extras.setdefault("periodic_jobs", []).append((PUBLISH_EVERY, publish_due_posts))
    services.extras.setdefault("on_profile_changed", profile.on_profile_changed)
    services.extras.setdefault("on_business_deleted", profile.on_business_deleted)
