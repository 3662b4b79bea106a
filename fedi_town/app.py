"""The ASGI application: ``create_app(settings)`` wires routes, error handling and lifespan.

Nothing happens at import time. The lifespan runs ``lifecycle.startup`` and
``lifecycle.shutdown``: the database, the instance actor's key, the outbound HTTP client
and, unless ``FEDI_TOWN_WORKER=off``, the background worker in this process.

In front of Starlette's middleware stack sits ``fastpath.FastPath``: GETs of documents
kept in ``read.cache`` are answered there, before route matching; everything else passes
through unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedi_town import errors
from fedi_town.api import routes as api_routes
from fedi_town.errors import ProblemError
from fedi_town.fastpath import FastPath
from fedi_town.inbound import routes as inbound_routes
from fedi_town.lifecycle import describe_failure as describe_failure
from fedi_town.lifecycle import shutdown, startup
from fedi_town.mastodon import routes as mastodon_routes
from fedi_town.mastodon.auth import error_response as mastodon_error
from fedi_town.mastodon.cors import MastodonCors, is_mastodon_path
from fedi_town.metrics import Measured
from fedi_town.read import routes as read_routes
from fedi_town.read.templates import error_page
from fedi_town.schemas import openapi_document
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.web import json_response, problem_response
from fedi_town.webapp import routes as webapp_routes
from fedi_town.webapp.guard import Redirect
from fedi_town.webapp.render import app_error_page

log = logging.getLogger(__name__)


def _problem_for_status(status: int, detail: str) -> ProblemError:
    for cls in (
        errors.BadRequest,
        errors.Unauthorized,
        errors.Forbidden,
        errors.NotFound,
        errors.Conflict,
        errors.Gone,
        errors.PayloadTooLarge,
        errors.UnsupportedMedia,
        errors.Unprocessable,
        errors.ServiceUnavailable,
    ):
        if cls.status == status:
            return cls(detail)
    problem = ProblemError(detail)
    problem.status = status
    problem.title = detail
    return problem


def _is_app_page(request: Request) -> bool:
    """A page of the owner's web app, answered in HTML whatever went wrong."""
    path = request.url.path
    return path in ("/login", "/oauth/authorize") or path.startswith(("/app", "/invite", "/logout"))


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    if _is_app_page(request) and "application/json" not in request.headers.get("accept", ""):
        return app_error_page(request, exc)
    return problem_response(exc)


async def _redirect_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Redirect)
    return RedirectResponse(exc.url, 303, headers={"Cache-Control": "no-store"})


def _wants_html(request: Request) -> bool:
    """A browser asking for a page (not the API, not an ActivityPub or JSON client)."""
    accept = request.headers.get("accept", "").lower()
    return "text/html" in accept and not request.url.path.startswith("/api/")


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "error"
    if is_mastodon_path(request.url.path):  # an app calling what is not served (yet)
        words = {404: "Record not found"}.get(exc.status_code, detail)
        return mastodon_error(exc.status_code, words, dict(exc.headers or {}))
    if _is_app_page(request) and exc.status_code in {404, 405}:
        return app_error_page(request, _problem_for_status(exc.status_code, detail))
    if exc.status_code == 404 and _wants_html(request):
        return error_page(request, 404, "Not Found", "There is no page at this address.")
    response = problem_response(_problem_for_status(exc.status_code, detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected_handler(request: Request, exc: Exception) -> Response:
    # Log the class and the route only: a traceback may carry request data, so it goes to
    # DEBUG; never the body, never headers.
    log.error("unhandled %s on %s %s", exc.__class__.__name__, request.method, request.url.path)
    log.debug("traceback", exc_info=exc)
    return problem_response(ProblemError("an internal error occurred"))


async def openapi(request: Request) -> Response:
    return json_response(openapi_document())


def all_routes() -> list[BaseRoute]:
    """Every route of the app, grouped by the way data flows (read, inbound, outbound)."""
    routes: list[BaseRoute] = [*inbound_routes.inbox_routes]
    routes.append(Route("/api/v1/openapi.json", openapi, methods=["GET"]))
    routes += api_routes.routes
    routes += mastodon_routes.routes
    routes += webapp_routes.routes
    routes += read_routes.routes
    return routes


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """Build the Starlette app for ``settings`` (``services`` may be given by tests).

    The middleware stack is built here, with ``fastpath.FastPath`` in front of it (and
    ``mastodon.cors.MastodonCors`` just behind, for browser apps like Elk), so
    ``app.add_middleware`` cannot be called on the result: add middleware in this function.
    """
    services = services or Services.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await startup(services)
        try:
            yield {}
        finally:
            await shutdown(services)

    app = Starlette(
        routes=all_routes(),
        lifespan=lifespan,
        exception_handlers={
            Redirect: _redirect_handler,
            ProblemError: _problem_handler,
            HTTPException: _http_exception_handler,
            Exception: _unexpected_handler,
        },
    )
    app.state.services = services
    app.middleware_stack = FastPath(MastodonCors(app.build_middleware_stack()), services)
    if services.metrics.on:  # counting every request by route; nothing at all when off
        app.middleware_stack = Measured(app.middleware_stack, services.metrics)
    return app
