"""read.poster: the "Follow us" poster as served, its QR code decoded back to the profile URL
(the served SVG rasterised by resvg, read by zxing-cpp), its text escaped once."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import resvg_py
import zxingcpp
from PIL import Image

from fedi_town.read.poster import SVG_NS, poster_svg, qr_svg, two_lines
from tests.conftest import admin_headers, create_business
from tests.read.helpers import BROWSER

pytestmark = pytest.mark.anyio

BASE = "https://town.example"
NAME = "Tom & Jerry's <Bakery>"


def decode(svg: str) -> list[str]:
    """What a phone would read from the SVG as drawn (96 dpi: an A4 sheet is 794 px wide)."""
    png = bytes(resvg_py.svg_to_bytes(svg_string=svg, dpi=96, background="#ffffff"))
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{{{SVG_NS}}}text")]


def test_the_poster_svg_holds_the_name_handle_and_how_to_follow_as_text():
    # Given a name full of characters XML gives meaning to
    svg = poster_svg(NAME, "@bakery@town.example", f"{BASE}/@bakery")
    # When the SVG is parsed as XML
    shown = texts(svg)
    # Then the name reads as typed (escaped exactly once in the file), with handle and line
    assert NAME in shown
    assert "Tom &amp; Jerry's &lt;Bakery&gt;" in svg and "&amp;amp;" not in svg
    assert "@bakery@town.example" in shown
    assert "Search for @bakery@town.example in Mastodon or any fediverse app" in " ".join(shown)
    assert (
        ET.fromstring(svg).find(f"{{{SVG_NS}}}title").text
        == f"Follow {NAME} (@bakery@town.example)"
    )


def test_a_long_name_goes_on_two_lines_split_near_the_middle():
    name = "The Artisanal Sourdough and Pastry Cooperative of Springfield Old Town"
    first, second = two_lines(name)
    assert f"{first} {second}" == name and abs(len(first) - len(second)) < 10
    shown = texts(poster_svg(name, "@bakery@town.example", f"{BASE}/@bakery"))
    assert first in shown and second in shown
    assert two_lines("Bakery") == ("Bakery", "")


def test_the_qr_code_alone_is_sized_by_its_container():
    svg = qr_svg(f"{BASE}/@bakery")
    root = ET.fromstring(svg)
    assert "viewBox" in root.attrib and "width" not in root.attrib
    assert root.attrib["class"] == "qr"


async def test_the_served_poster_svg_decodes_to_the_profile_url(app_client):
    # Given a business with a name to escape
    await create_business(app_client, "bakery", display_name=NAME)
    # When the poster SVG is fetched
    response = await app_client.get("/@bakery/poster.svg")
    # Then it is an SVG image, without script, cacheable, named for saving
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert response.headers["cache-control"] == "public, max-age=300"
    assert 'filename="follow-bakery.svg"' in response.headers["content-disposition"]
    assert "<script" not in response.text
    # And what it draws is a QR code a phone reads as the profile page, and the name as typed
    assert decode(response.text) == [f"{BASE}/@bakery"]
    assert NAME in texts(response.text)


async def test_the_poster_page_is_printable_html_with_the_qr_code_inline(app_client):
    await create_business(app_client, "bakery", display_name=NAME)
    response = await app_client.get("/@bakery/poster", headers=BROWSER)
    assert response.status_code == 200
    html = response.text
    assert "<h1>Tom &amp; Jerry&#39;s &lt;Bakery&gt;</h1>" in html
    assert '<p class="poster-handle">@bakery<wbr>@town.example</p>' in html
    assert (
        "Search for <strong>@bakery@town.example</strong> in Mastodon or any fediverse app" in html
    )
    assert '<svg xmlns="http://www.w3.org/2000/svg" viewBox=' in html
    assert f'href="{BASE}/@bakery/poster.svg"' in html
    # no script and no inline style: the page CSP allows neither
    assert "<script" not in html and "style=" not in html
    assert "default-src 'none'" in response.headers["content-security-policy"]
    # the inline code, drawn on its own at A4 width, reads as the profile URL
    start, end = html.index("<svg"), html.index("</svg>") + len("</svg>")
    inline = html[start:end].replace("<svg ", '<svg width="600" height="600" ', 1)
    assert decode(inline) == [f"{BASE}/@bakery"]


@pytest.mark.parametrize("path", ["/@bakery/poster", "/@bakery/poster.svg"])
async def test_unknown_and_deleted_businesses_have_no_poster(app_client, path):
    assert (await app_client.get(path, headers=BROWSER)).status_code == 404
    await create_business(app_client, "bakery")
    moved = await app_client.get(path.replace("bakery", "Bakery"), headers=BROWSER)
    assert moved.status_code == 301 and moved.headers["location"] == BASE + path
    await app_client.delete("/api/v1/businesses/bakery", headers=admin_headers())
    assert (await app_client.get(path, headers=BROWSER)).status_code == 410
