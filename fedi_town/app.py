"""The ASGI application: ``create_app(settings)`` wires routes, error handling and lifespan.

Nothing happens at import time. The lifespan connects the database, applies migrations,
makes sure the instance actor has a key, opens the outbound HTTP client and, unless
``FEDI_TOWN_WORKER=off``, runs the background worker in this process.

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
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedi_town import errors
from fedi_town.api import routes as api_routes
from fedi_town.errors import ConfigError, ProblemError
from fedi_town.fastpath import FastPath
from fedi_town.inbound import routes as inbound_routes
from fedi_town.read import routes as read_routes
from fedi_town.read.templates import error_page
from fedi_town.schemas import openapi_document
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store.migrations import migrate
from fedi_town.web import json_response, problem_response

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


async def _problem_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(exc)


def _wants_html(request: Request) -> bool:
    """A browser asking for a page (not the API, not an ActivityPub or JSON client)."""
    accept = request.headers.get("accept", "").lower()
    return "text/html" in accept and not request.url.path.startswith("/api/")


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else "error"
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
    routes += read_routes.routes
    return routes


async def startup(services: Services) -> None:
    """Connect, migrate and start what runs beside the web server.

    A start that fails undoes itself: what started is stopped and the database is closed
    (SQLite's connection threads would otherwise keep the process alive after the server
    gave up), then the error goes on to the caller, which exits.
    """
    await services.store.connect()
    try:
        await migrate(services.store)
        for hook in services.extras.get("startup_hooks", []):
            await hook(services)
    except BaseException as exc:
        log.error("start failed: %s", describe_failure(exc))
        await shutdown(services)
        raise


async def shutdown(services: Services) -> None:
    """Stop what ``startup`` started, in reverse, and close the database. Every step runs
    even when an earlier one fails (a stop after a failed start meets half-started parts)."""
    for hook in reversed(services.extras.get("shutdown_hooks", [])):
        try:
            await hook(services)
        except Exception as exc:
            log.error("stopping %s failed: %s", hook.__name__, exc.__class__.__name__)
    await services.store.disconnect()


def describe_failure(exc: BaseException) -> str:
    """One line naming why a start failed (the database's own words for storage trouble),
    for the log and the terminal, instead of a traceback."""
    if isinstance(exc, ConfigError):  # written for people; it names the setting
        return _first_line(exc)
    cause = exc.__cause__ if isinstance(exc, ProblemError) and exc.__cause__ else exc
    if isinstance(exc, ProblemError):
        detail = f"{exc.detail} ({cause.__class__.__name__}: {_first_line(cause)})"
        return detail if cause is not exc else exc.detail
    return f"{exc.__class__.__name__}: {_first_line(exc)}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else "no detail"


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """Build the Starlette app for ``settings`` (``services`` may be given by tests).

    The middleware stack is built here, with ``fastpath.FastPath`` in front of it, so
    ``app.add_middleware`` cannot be called on the result: add middleware in this function.
    """
    services = services or Services.from_settings(settings)
    from fedi_town import lifecycle

    lifecycle.install(services)

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
            ProblemError: _problem_handler,
            HTTPException: _http_exception_handler,
            Exception: _unexpected_handler,
        },
    )
    app.state.services = services
    app.middleware_stack = FastPath(app.build_middleware_stack(), services, app)
    return app
