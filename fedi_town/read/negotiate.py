"""The one door every ActivityPub document goes out through, and content negotiation.

``serve_document(request, build, page=...)`` answers a URL that is both an ActivityPub id
and (often) a web page:

- ``Accept`` with ``application/activity+json`` or ``application/ld+json`` → the document
  from ``build``, as ``application/activity+json`` with ``Vary: Accept`` (interop F2).
- anything else (a browser) → the HTML from ``page``; without a page, the document anyway.
- a ``NotFound``/``Gone`` becomes an HTML error page for browsers and problem+json (or the
  ``Tombstone`` of a ``TombstoneGone``) for ActivityPub clients; ``MovedTo`` a redirect.

Authorized fetch: ``read.fetch_guard.fetch_guard(request, services) -> str | None`` is
awaited with the request before any document is built (never for HTML pages, never for
``guarded=False`` documents such as the instance actor). It returns the actor id whose
HTTP signature it verified, or None for an unsigned request it lets through; it raises a
``ProblemError`` (401 for a bad signature, 403 for a blocked signer) to refuse. The result
reaches ``build`` as ``fetcher`` (see ``read.visibility.can_see``). The guard owns the
authorized-fetch policy (``FEDI_TOWN_AUTHORIZED_FETCH``: unsigned → 401, with its own
exemptions).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fedi_town.errors import Gone, NotFound
from fedi_town.protocol.documents import Document
from fedi_town.read.cache import remember
from fedi_town.read.fetch_guard import fetch_guard
from fedi_town.read.templates import error_page
from fedi_town.services import Services
from fedi_town.web import activity_response, wants_activity_json

log = logging.getLogger(__name__)

DocumentBuilder = Callable[[str | None], Awaitable[Document | bytes]]
PageRenderer = Callable[[], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

#: Documents anybody may cache for a few minutes (Mastodon refetches actors at most daily).
PUBLIC_CACHE = "public, max-age=180"
PRIVATE_CACHE = "private, max-age=0"


class TombstoneGone(Gone):
    """410 whose body, for ActivityPub clients, is a ``Tombstone`` document."""

    def __init__(self, document: Document, detail: str = "this object was deleted") -> None:
        super().__init__(detail)
        self.document = document


class MovedTo(Exception):
    """The URL names an object by a non-canonical spelling (username case): redirect."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


async def verified_fetcher(request: Request, services: Services) -> str | None:
    """Run the fetch guard, which enforces authorized fetch. See the module docstring."""
    return await fetch_guard(request, services)


async def serve_document(
    request: Request,
    build: DocumentBuilder,
    *,
    page: PageRenderer | None = None,
    guarded: bool = True,
    cache_group: str | None = None,
) -> Response:
    """Answer with ``build(fetcher)`` as ActivityStreams, or with ``page()`` for browsers.

    ``build`` returns the document (whose ``id`` must equal the URL asked for), or its
    encoded bytes when it keeps them cached (``read.cache``), or raises
    ``NotFound``, ``TombstoneGone`` or ``MovedTo``. ``guarded=False`` skips the fetch guard:
    only for documents peers need to verify us (the instance actor).

    ``cache_group`` (see ``read.cache``) keeps the ActivityPub answer in memory, dropped
    with that group: only for documents that are the same for every fetcher, or whose
    ``build`` marks the request ``read.cache.FETCHER_DEPENDENT`` when they are not.
    """
    services: Services = request.app.state.services
    as_json = wants_activity_json(request) or page is None
    try:
        if not as_json:
            assert page is not None
            response = await page()
            response.headers["Vary"] = "Accept"
            return response
        fetcher = await verified_fetcher(request, services) if guarded else None
        document = await build(fetcher)
    except MovedTo as moved:
        return RedirectResponse(moved.url, 301, headers={"Vary": "Accept"})
    except TombstoneGone as gone:
        if not as_json:
            return error_page(request, 410, "Gone", str(gone.detail))
        return activity_response(gone.document, 410, headers={"Cache-Control": PUBLIC_CACHE})
    except (NotFound, Gone) as missing:
        if not as_json:
            return error_page(request, missing.status, missing.title, str(missing.detail))
        raise
    # What an unsigned request gets, anybody gets: a shared cache may keep it. Answers to a
    # signed fetcher may depend on who it is, and under authorized fetch nothing is public.
    shared = fetcher is None and not services.settings.authorized_fetch
    cache = PUBLIC_CACHE if shared else PRIVATE_CACHE
    response = activity_response(document, headers={"Cache-Control": cache})
    if cache_group is not None:
        remember(
            request,
            response,
            cache_group,
            guarded=guarded,
            public_cache=PUBLIC_CACHE,
            private_cache=PRIVATE_CACHE,
        )
    return response


def browser_errors(endpoint: Endpoint) -> Endpoint:
    """Wrap an HTML-only route: 404/410 as HTML pages, ``MovedTo`` as a redirect."""

    @wraps(endpoint)
    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except MovedTo as moved:
            return RedirectResponse(moved.url, 301)
        except (NotFound, Gone) as missing:
            if wants_activity_json(request):
                raise
            return error_page(request, missing.status, missing.title, str(missing.detail))

    return wrapped
