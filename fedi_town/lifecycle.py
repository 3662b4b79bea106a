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

    add_hooks(services, instance.ensure_instance_key)
    for module_name in (
        "fedi_town.remote.setup",
        "fedi_town.inbound.setup",
        "fedi_town.outbound.setup",
    ):
        try:
            module = __import__(module_name, fromlist=["install"])
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.install(services)
    # The worker starts last and stops first, after every queue registered itself.
    add_hooks(services, worker.start_in_process, worker.stop_in_process)
