"""Where the business's apps stopped reading (``store/markers.py``), shared by every app
signed in as the business, as Mastodon shares them between a user's apps.

    GET  /api/v1/markers?timeline[]=home&timeline[]=notifications    read:statuses
    POST /api/v1/markers   home[last_read_id]=…, notifications[last_read_id]=…
                           (form) or {"home": {"last_read_id": "…"}} (JSON)   write:statuses
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import iso
from fedi_town.services import Services
from fedi_town.store import markers as marker_store
from fedi_town.store.markers import TIMELINES, Marker

MAX_ID_LENGTH = 40


def _marker(marker: Marker) -> dict[str, Any]:
    return {
        "last_read_id": marker.last_read_id,
        "version": marker.version,
        "updated_at": iso(marker.updated_at),
    }


def _last_read_id(values: dict[str, Any], timeline: str) -> str | None:
    """The ``last_read_id`` sent for ``timeline`` (form key or nested JSON), or None."""
    nested = values.get(timeline)
    raw: Any = None
    if isinstance(nested, dict):
        raw = nested.get("last_read_id")
    elif f"{timeline}[last_read_id]" in values:
        raw = values[f"{timeline}[last_read_id]"]
    if raw is None:
        return None
    text = str(raw).strip()
    if not text.isdigit() or len(text) > MAX_ID_LENGTH:
        raise Unprocessable(f"Validation failed: {timeline} last_read_id is not an id")
    return text


async def _answer(services: Services, business_id: int, timelines: list[str]) -> Response:
    found = await marker_store.of_business(services.store, business_id, timelines)
    return json({m.timeline: _marker(m) for m in found})


@endpoint("read:statuses")
async def get_markers(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    wanted = [t for t in params.strings(params.query(request), "timeline") if t in TIMELINES]
    return await _answer(services, business.id, wanted)


@endpoint("write:statuses")
async def save_markers(request: Request, grant: Grant | None) -> Response:
    """Save the positions sent; answer those timelines' markers (Mastodon answers only
    what was saved)."""
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    values = await params.read(request, services.settings.max_body_bytes)
    saved = []
    for timeline in TIMELINES:
        last_read_id = _last_read_id(values, timeline)
        if last_read_id is not None:
            await marker_store.save(
                services.store, business.id, timeline, last_read_id, now=services.now_ms()
            )
            saved.append(timeline)
    return await _answer(services, business.id, saved)


routes = [
    Route("/api/v1/markers", get_markers, methods=["GET"]),
    Route("/api/v1/markers", save_markers, methods=["POST"]),
]
