"""Server-rendered HTML: one Jinja2 environment (autoescape on), built on first use.

Templates live in ``fedi_town/templates``. Every value is escaped unless a view marks it
``Markup`` on purpose (post and bio HTML that went through the sanitiser).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import HTMLResponse

from fedi_town.business import hours
from fedi_town.protocol.vocabulary import iso8601
from fedi_town.services import Services

if TYPE_CHECKING:
    from jinja2 import Environment

#: Pages need no script, no frames, no foreign images: say so to the browser.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def human_date(ms: int) -> str:
    """``23 Nov 2026`` (UTC): short, unambiguous in every locale."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{moment.day} {moment:%b %Y}"


@lru_cache(maxsize=64)
def zone(name: str | None) -> ZoneInfo:
    """The IANA zone ``name``; UTC when it is unset or unknown (names are checked when they
    are written, so an unknown one is a zone dropped from a newer tzdata)."""
    return hours.zone(name, "UTC")


def local_datetime(ms: int, zone_name: str | None) -> str:
    """``7 Dec 2026, 07:30``: the wall-clock time in ``zone_name`` (a business's zone), so
    "buns out of the oven at 7:30" reads 07:30 in summer and in winter."""
    moment = datetime.fromtimestamp(ms / 1000, zone(zone_name))
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def local_iso8601(ms: int, zone_name: str | None) -> str:
    """The same instant as ISO 8601 with the zone's offset (``2026-12-07T07:30:00+01:00``),
    for ``<time datetime>``."""
    return datetime.fromtimestamp(ms / 1000, zone(zone_name)).isoformat(timespec="seconds")


@lru_cache(maxsize=1)
def environment() -> Environment:
    # Jinja2 is imported with the first page, not at start: a process serving only
    # federation traffic never needs it (idle RSS target: 80 MB).
    from jinja2 import Environment, PackageLoader, StrictUndefined  # deferred: pages only

    env = Environment(
        loader=PackageLoader("fedi_town", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["human_date"] = human_date
    env.filters["iso8601"] = iso8601
    env.filters["local_datetime"] = local_datetime
    env.filters["local_iso8601"] = local_iso8601
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` with the instance facts every page shows."""
    services: Services = request.app.state.services
    values = {
        "instance_name": services.settings.instance_name,
        "instance_description": services.settings.instance_description,
        "urls": services.urls,
        **context,
    }
    html = environment().get_template(template).render(values)
    return HTMLResponse(html, status, headers={**SECURITY_HEADERS, **(headers or {})})


def error_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    """The HTML answer to a browser for 404, 410 and the like (JSON clients get problem+json)."""
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "detail": detail},
        status=status,
        headers={"Vary": "Accept"},
    )
