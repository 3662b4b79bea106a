"""What runs at start and stop beside the routes: instance keys, HTTP client, worker.

Each piece registers a startup hook (and its matching shutdown hook) on ``services.extras``;
``app.startup`` runs them in order after migrations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fedi_town.services import Services

Hook = Callable[[Services], Awaitable[None]]


def add_hooks(services: Services, start: Hook | None = None, stop: Hook | None = None) -> None:
    if start is not None:
        services.extras.setdefault("startup_hooks", []).append(start)
    if stop is not None:
        services.extras.setdefault("shutdown_hooks", []).append(stop)


def install(services: Services) -> None:
    """Register every start/stop hook, once per Services."""
    if services.extras.get("_installed"):
        return
    services.extras["_installed"] = True
    from fedi_town import instance, worker
    from fedi_town.inbound import setup as inbound_setup
    from fedi_town.outbound import setup as outbound_setup
    from fedi_town.remote import setup as remote_setup

    add_hooks(services, instance.ensure_instance_key)
    remote_setup.install(services)
    inbound_setup.install(services)
    outbound_setup.install(services)
    # The worker starts last and stops first, after every queue registered itself.
    add_hooks(services, worker.start_in_process, worker.stop_in_process)
