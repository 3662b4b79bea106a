"""read.negotiate: one URL, a document for ActivityPub clients and a page for browsers; a
missing or deleted object, a redirect and the cache headers, each as its asker needs it.

Served by a small Starlette app whose routes call ``serve_document`` and ``browser_errors``
over the real services, through real HTTP (ASGI)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from fedi_town.errors import NotFound
from fedi_town.read.negotiate import (
    PRIVATE_CACHE,
    PUBLIC_CACHE,
    MovedTo,
    TombstoneGone,
    browser_errors,
    serve_document,
)
from fedi_town.services import Services
from fedi_town.settings import Settings
from tests.read.helpers import AP, BROWSER, LD

pytestmark = pytest.mark.anyio

BASE = "https://town.example"
NOTE = {"id": f"{BASE}/note", "type": "Note", "content": "Rye"}
TOMBSTONE = {"id": f"{BASE}/gone", "type": "Tombstone", "formerType": "Note"}


async def page() -> Response:
    return HTMLResponse("<p>Rye</p>")


async def note(request: Request) -> Response:
    async def build(fetcher: str | None) -> dict[str, str]:
        return NOTE

    return await serve_document(request, build, page=page)


async def bare(request: Request) -> Response:
    async def build(fetcher: str | None) -> dict[str, str]:
        return NOTE

    return await serve_document(request, build)


async def gone(request: Request) -> Response:
    async def build(fetcher: str | None) -> dict[str, str]:
        raise TombstoneGone(TOMBSTONE)

    async def gone_page() -> Response:
        raise TombstoneGone(TOMBSTONE, "the note was deleted")

    return await serve_document(request, build, page=gone_page)


async def moved(request: Request) -> Response:
    async def build(fetcher: str | None) -> dict[str, str]:
        raise MovedTo(f"{BASE}/note")

    return await serve_document(request, build)


@browser_errors
async def missing_page(request: Request) -> Response:
    raise NotFound("no such page")


@browser_errors
async def moved_page(request: Request) -> Response:
    raise MovedTo(f"{BASE}/@bakery")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(
        routes=[
            Route("/note", note),
            Route("/bare", bare),
            Route("/gone", gone),
            Route("/moved", moved),
            Route("/missing-page", missing_page),
            Route("/moved-page", moved_page),
        ]
    )
    app.state.services = Services.from_settings(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        yield c


@pytest.mark.parametrize("accept", [AP, LD], ids=["activity+json", "ld+json"])
async def test_an_activitypub_client_gets_the_document_cacheable_by_anyone(client, accept):
    # Given a URL that is a document and a page
    # When an ActivityPub client asks for it, unsigned
    response = await client.get("/note", headers=accept)
    # Then it gets the document as activity+json, varying by Accept, publicly cacheable
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/activity+json"
    assert response.json() == NOTE
    assert response.headers["vary"] == "Accept"
    assert response.headers["cache-control"] == PUBLIC_CACHE


async def test_a_browser_gets_the_page_at_the_same_url(client):
    # Given a URL that is a document and a page
    # When a browser asks for it
    response = await client.get("/note", headers=BROWSER)
    # Then it gets the page, varying by Accept
    assert response.status_code == 200
    assert response.text == "<p>Rye</p>"
    assert response.headers["vary"] == "Accept"


async def test_without_a_page_a_browser_gets_the_document_too(client):
    # Given a URL that is a document only
    # When a browser asks for it
    response = await client.get("/bare", headers=BROWSER)
    # Then it gets the document
    assert response.headers["content-type"] == "application/activity+json"
    assert response.json() == NOTE


async def test_under_authorized_fetch_nothing_is_cacheable_by_others(make_client):
    # Given authorized fetch, and a route that is not guarded
    async with make_client(authorized_fetch=True) as client:
        # When the instance actor is fetched unsigned (the one document served so)
        response = await client.get("/actor", headers=AP)
    # Then no shared cache may keep it
    assert response.status_code == 200
    assert response.headers["cache-control"] == PRIVATE_CACHE


async def test_a_deleted_object_is_a_tombstone_for_clients_and_a_page_for_browsers(client):
    # Given a URL whose object was deleted
    # When an ActivityPub client and a browser ask for it
    for_client = await client.get("/gone", headers=AP)
    for_browser = await client.get("/gone", headers=BROWSER)
    # Then the client gets 410 with the Tombstone, the browser a 410 page
    assert for_client.status_code == 410
    assert for_client.json() == TOMBSTONE
    assert for_client.headers["cache-control"] == PUBLIC_CACHE
    assert for_browser.status_code == 410
    assert for_browser.headers["content-type"].startswith("text/html")
    assert "the note was deleted" in for_browser.text


async def test_a_non_canonical_url_is_a_permanent_redirect_varying_by_accept(client):
    # Given a URL naming an object by another spelling
    # When it is fetched
    response = await client.get("/moved", headers=AP)
    # Then it redirects permanently to the canonical id
    assert response.status_code == 301
    assert response.headers["location"] == f"{BASE}/note"
    assert response.headers["vary"] == "Accept"


async def test_an_html_route_shows_browsers_an_error_page_and_redirects_them(client):
    # Given HTML-only routes, one missing its object, one under another spelling
    # When a browser asks for them
    missing = await client.get("/missing-page", headers=BROWSER)
    redirected = await client.get("/moved-page", headers=BROWSER)
    # Then it gets a 404 page and a permanent redirect
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "no such page" in missing.text
    assert (redirected.status_code, redirected.headers["location"]) == (301, f"{BASE}/@bakery")


async def test_an_html_route_lets_a_clients_not_found_reach_the_problem_handler(client):
    # Given an HTML-only route missing its object (this small app has no problem handler)
    # When an ActivityPub client asks for it
    # Then the NotFound is raised on, for the app's problem+json handler
    with pytest.raises(NotFound):
        await client.get("/missing-page", headers=AP)
