"""Start and stop the process's one outbound HTTP client."""

from __future__ import annotations

from fedi_town import __version__
from fedi_town.lifecycle import add_hooks
from fedi_town.remote.http import RemoteClient
from fedi_town.services import Services


async def open_client(services: Services) -> None:
    if services.remote is None:
        services.remote = RemoteClient(
            allow_private=services.settings.allow_private_addresses,
            user_agent=f"fedi-town/{__version__} (+{services.urls.base}/)",
            clock=services.clock,
            # above the delivery concurrency (outbound/setup.py), plus room for fetches
            max_connections=256,
            max_keepalive_connections=64,
        )


async def close_client(services: Services) -> None:
    if services.remote is not None:
        await services.remote.close()
        services.remote = None


def install(services: Services) -> None:
    add_hooks(services, open_client, close_client)
