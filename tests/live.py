"""A real fedi-town instance under uvicorn on 127.0.0.1, for federation tests.

The socket is bound before the settings are made, so the base URL carries the real port
and nothing races for it. The instance allows private addresses (everything is on loopback)
and runs its worker in-process, polling every 50 ms so tests stay quick.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from fedi_town.app import create_app
from fedi_town.services import Services, WorkerOptions
from fedi_town.settings import Settings


def bind_loopback(host: str = "127.0.0.1") -> socket.socket:
    """A listening TCP socket on a free port of ``host``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@asynccontextmanager
async def serve_app(app: Any, sock: socket.socket) -> AsyncIterator[uvicorn.Server]:
    """Run an ASGI app under uvicorn on ``sock`` until the block ends."""
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    # Up to a minute: on a loaded machine the start (migrations, keys) can take seconds, and
    # a test that went on before it finished would meet services not yet started.
    for _ in range(6000):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if task.done():
        task.result()  # raises what went wrong at start
    if not server.started:
        server.should_exit = True
        raise RuntimeError("the test server did not start (within a minute, or its start failed)")
    try:
        yield server
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, timeout=30)
        except TimeoutError:
            server.force_exit = True
            await task
        sock.close()


@dataclass
class LiveInstance:
    """A running fedi-town: its URL, services (store, urls) and an HTTP client to it."""

    base_url: str
    settings: Settings
    services: Services
    client: httpx.AsyncClient

    @property
    def store(self) -> Any:
        return self.services.store

    @property
    def urls(self) -> Any:
        return self.services.urls

    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.admin_token}"}

    async def create_business(self, username: str = "bakery", **extra: Any) -> dict[str, Any]:
        """Create a business through the admin API; its JSON includes owner_token."""
        body = {"username": username, "display_name": extra.pop("display_name", username)}
        body.update(extra)
        response = await self.client.post(
            "/api/v1/businesses", json=body, headers=self.admin_headers()
        )
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data


async def wait_until(
    predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02
) -> Any:
    """Poll ``predicate`` (sync or async) until it returns something truthy; fail on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


@asynccontextmanager
async def live_instance(
    database_url: str, tmp_path: Path, *, public_host: str = "127.0.0.1", **overrides: Any
) -> AsyncIterator[LiveInstance]:
    """Start fedi-town on loopback with ``database_url``; stop it when the block ends.

    ``public_host="localhost"`` names it ``http://localhost:<port>`` (for WebAuthn in a
    browser, which refuses an IP address as the site's name)."""
    from tests.conftest import make_settings

    sock = bind_loopback()
    port = sock.getsockname()[1]
    values: dict[str, Any] = {
        "base_url": f"http://{public_host}:{port}",
        "allow_private_addresses": True,
        "worker": "in-process",
    }
    values.update(overrides)
    settings = make_settings(database_url, tmp_path, **values)
    services = Services.from_settings(settings)
    services.worker = WorkerOptions(poll_seconds=0.05, stop_deadline=2.0)
    app = create_app(settings, services)
    async with serve_app(app, sock):
        async with httpx.AsyncClient(base_url=settings.base_url, timeout=10) as client:
            yield LiveInstance(settings.base_url, settings, services, client)
