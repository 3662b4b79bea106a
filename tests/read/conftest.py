"""Read-side fixtures: an app client whose settings a test can change (base URL, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from fedi_town.app import create_app
from fedi_town.services import Services
from tests.conftest import make_settings

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def make_client(database_url: str, tmp_path: Path) -> ClientFactory:
    """``async with make_client(base_url=...) as client``: the whole app, other settings."""

    @asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_settings(database_url, tmp_path, **overrides)
        services = Services.from_settings(settings)
        app = create_app(settings, services)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
                client.services = services  # type: ignore[attr-defined]
                yield client

    return make
