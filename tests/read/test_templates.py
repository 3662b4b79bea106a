"""read.templates: pages escape what they show, carry the browser security headers, name the
instance, and refuse to render with a value missing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import jinja2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.read.templates import (
    SECURITY_HEADERS,
    error_page,
    human_date,
    local_datetime,
    local_iso8601,
    render,
)
from fedi_town.services import Services
from fedi_town.settings import Settings
from tests.read.helpers import BROWSER

pytestmark = pytest.mark.anyio


def ms(*when: int) -> int:
    return int(datetime(*when, tzinfo=UTC).timestamp() * 1000)


async def teapot(request: Request) -> Response:
    return error_page(request, 418, "Teapot <b>", "<script>alert(1)</script>")


async def incomplete(request: Request) -> Response:
    return render(request, "error.html", {"status": 404, "title": "Not Found"})


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=[Route("/teapot", teapot), Route("/incomplete", incomplete)])
    app.state.services = Services.from_settings(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://town.example") as c:
        yield c


def test_dates_are_day_month_and_year_in_utc_without_padding():
    # Given moments in UTC (one just before midnight)
    # When they are shown
    # Then each reads as "day month year"
    assert human_date(ms(2026, 11, 23, 12)) == "23 Nov 2026"
    assert human_date(ms(2026, 12, 1, 23, 59)) == "1 Dec 2026"


@pytest.mark.parametrize(
    ("utc", "zone", "shown", "iso"),
    [
        # Berlin in winter (+01:00) and summer (+02:00): 07:30 on the shop's clock both times
        ((2026, 12, 7, 6, 30), "Europe/Berlin", "7 Dec 2026, 07:30", "2026-12-07T07:30:00+01:00"),
        ((2027, 6, 7, 5, 30), "Europe/Berlin", "7 Jun 2027, 07:30", "2027-06-07T07:30:00+02:00"),
        # the night Berlin falls back: 02:30 happens twice, the offsets tell them apart
        ((2026, 10, 25, 0, 30), "Europe/Berlin", "25 Oct 2026, 02:30", "2026-10-25T02:30:00+02:00"),
        ((2026, 10, 25, 1, 30), "Europe/Berlin", "25 Oct 2026, 02:30", "2026-10-25T02:30:00+01:00"),
        # New York's day is still yesterday's
        ((2026, 12, 7, 3, 0), "America/New_York", "6 Dec 2026, 22:00", "2026-12-06T22:00:00-05:00"),
        # no zone, or one this tzdata does not know: UTC
        ((2026, 12, 7, 6, 30), None, "7 Dec 2026, 06:30", "2026-12-07T06:30:00+00:00"),
        ((2026, 12, 7, 6, 30), "Mars/Olympus", "7 Dec 2026, 06:30", "2026-12-07T06:30:00+00:00"),
    ],
)
def test_post_times_read_as_the_wall_clock_of_the_business(utc, zone, shown, iso):
    assert local_datetime(ms(*utc), zone) == shown
    assert local_iso8601(ms(*utc), zone) == iso


async def test_an_error_page_escapes_its_text_and_varies_by_accept(client):
    # Given an error whose title and detail look like markup
    # When a browser gets its page
    response = await client.get("/teapot", headers=BROWSER)
    # Then the status is kept, the markup shown as text, and the answer varies by Accept
    assert response.status_code == 418
    assert response.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>" not in response.text and "Teapot &lt;b&gt;" in response.text
    assert response.headers["vary"] == "Accept"


async def test_every_page_carries_the_security_headers_and_the_instance_name(client, settings):
    # Given any rendered page
    # When a browser gets it
    response = await client.get("/teapot", headers=BROWSER)
    # Then it forbids scripts, frames and foreign content, and names the instance
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert settings.instance_name in response.text


async def test_a_page_with_a_value_missing_is_an_error_not_a_blank(client):
    # Given a template rendered without one of its values (detail)
    # When it is rendered
    # Then rendering fails rather than showing a page with a hole
    with pytest.raises(jinja2.UndefinedError):
        await client.get("/incomplete", headers=BROWSER)
