"""The "Follow us" poster for the shop window: ``/@{username}/poster.svg`` and ``/poster``.

Both carry a QR code of the profile page (made by ``segno``; a phone's camera opens the
page, whose form follows from the visitor's own server), the business's name, its handle
and how to follow it. The SVG is one A4 sheet, built with ``xml.etree`` so every text is
XML-escaped by the serialiser ("Tom & Jerry's <Bakery>" stays text); the page is the same
poster in HTML, sized for A4 and Letter by ``style.css``'s print rules (no script, no
inline style: the page CSP allows neither).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.read.lookup import live_business
from fedi_town.read.negotiate import browser_errors
from fedi_town.read.templates import render
from fedi_town.services import Services

if TYPE_CHECKING:
    from segno import QRCode

SVG_NS = "http://www.w3.org/2000/svg"
SVG_TYPE = "image/svg+xml"
#: The poster changes only with the name; a shared cache may keep it a few minutes.
POSTER_CACHE = "public, max-age=300"
#: An SVG opened on its own is a document that could run script: ours has none, and may not.
SVG_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": POSTER_CACHE,
}
#: The sheet, in millimetres (A4 portrait).
WIDTH, HEIGHT = 210, 297
MARGIN = 12
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK, MUTED, ACCENT = "#111111", "#555555", "#8a4b08"
#: Average advance of a glyph as a share of the font size (bold sans-serif, generous), to
#: shrink or squeeze a long name into the sheet's width: SVG text does not wrap.
GLYPH_WIDTH = 0.6

ET.register_namespace("", SVG_NS)


def how_to_follow(handle: str) -> str:
    """The one line a passer-by needs."""
    return f"Search for {handle} in Mastodon or any fediverse app"


def qr_code(url: str) -> QRCode:
    """A QR code of ``url``: level M survives a smudge, a sticker edge, a reflection."""
    # segno is imported with the first poster (idle RSS target: 80 MB).
    import segno  # deferred: first poster only

    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, css_class: str = "qr") -> str:
    """The QR code alone as an SVG element (``viewBox`` only, sized by its container), with
    its quiet zone of four modules."""
    out = io.BytesIO()
    qr_code(url).save(
        out, kind="svg", xmldecl=False, svgns=True, omitsize=True, nl=False, svgclass=css_class
    )
    return out.getvalue().decode("utf-8")


def _fit(text: str, size: float, width: float, smallest: float) -> tuple[float, bool]:
    """The font size that fits ``text`` in ``width``, no smaller than ``smallest``; and
    whether it must still be squeezed (``textLength``) at that size."""
    needed = len(text) * GLYPH_WIDTH
    if needed * size <= width:
        return size, False
    fitted = width / needed
    return (fitted, False) if fitted >= smallest else (smallest, True)


def _text(
    parent: ET.Element,
    y: float,
    text: str,
    size: float,
    *,
    smallest: float = 4.0,
    fill: str = INK,
    bold: bool = False,
) -> None:
    width = WIDTH - 2 * MARGIN
    size, squeeze = _fit(text, size, width, smallest)
    attributes = {
        "x": str(WIDTH / 2),
        "y": str(y),
        "font-family": FONT,
        "font-size": f"{size:.2f}",
        "font-weight": "700" if bold else "400",
        "text-anchor": "middle",
        "fill": fill,
    }
    if squeeze:
        attributes |= {"textLength": str(width), "lengthAdjust": "spacingAndGlyphs"}
    element = ET.SubElement(parent, f"{{{SVG_NS}}}text", attributes)
    element.text = text  # escaped by the serialiser, once


def two_lines(text: str) -> tuple[str, str]:
    """``text`` split at the space nearest its middle (``(text, "")`` without a space)."""
    spaces = [i for i, c in enumerate(text) if c == " "]
    if not spaces:
        return text, ""
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return text[:cut], text[cut + 1 :]


def _lines(parent: ET.Element, y: float, lines: list[str], size: float, **style: Any) -> None:
    """Lines centred from baseline ``y``, all at the size that fits the longest."""
    width = WIDTH - 2 * MARGIN
    longest = max(lines, key=len)
    size, _ = _fit(longest, size, width, style.get("smallest", 4.0))
    for n, line in enumerate(lines):
        _text(parent, y + n * size * 1.25, line, size, **style)


def poster_svg(name: str, handle: str, profile_url: str) -> str:
    """The A4 poster as an SVG document: heading, name, QR code, handle, how to follow."""
    root = ET.Element(
        f"{{{SVG_NS}}}svg",
        {
            "width": f"{WIDTH}mm",
            "height": f"{HEIGHT}mm",
            "viewBox": f"0 0 {WIDTH} {HEIGHT}",
            "role": "img",
        },
    )
    ET.SubElement(root, f"{{{SVG_NS}}}title").text = f"Follow {name} ({handle})"
    ET.SubElement(
        root, f"{{{SVG_NS}}}rect", {"width": str(WIDTH), "height": str(HEIGHT), "fill": "#ffffff"}
    )
    _text(root, 30, "Follow us on the fediverse", 9, fill=ACCENT, bold=True)
    if not _fit(name, 16, WIDTH - 2 * MARGIN, 10)[1]:
        _text(root, 50, name, 16, smallest=10, bold=True)
    else:  # a long name: two lines, smaller
        _lines(root, 42, list(two_lines(name)), 11, smallest=5, bold=True)
    side = 150
    code = ET.fromstring(qr_svg(profile_url))  # noqa: S314 (segno's output, not input)
    code.attrib |= {
        "x": str((WIDTH - side) / 2),
        "y": "60",
        "width": str(side),
        "height": str(side),
    }
    root.append(code)
    _text(root, 226, handle, 12, smallest=5, bold=True)
    first, _, rest = how_to_follow(handle).partition(" in ")
    _lines(root, 242, [first, f"in {rest}"], 7)
    _text(root, 275, "or scan the code with your phone's camera", 5, fill=MUTED)
    _text(root, 283, profile_url, 4, smallest=2.5, fill=MUTED)
    return ET.tostring(root, encoding="unicode", xml_declaration=False)


@browser_errors
async def poster_image(request: Request) -> Response:
    """``/@{username}/poster.svg``: the poster to print or send to a print shop."""
    services: Services = request.app.state.services
    business = await live_business(services, request)
    urls = services.urls
    svg = poster_svg(
        business.display_name,
        urls.handle(business.username),
        urls.profile_page(business.username),
    )
    headers = {
        **SVG_HEADERS,
        "Content-Disposition": f'inline; filename="follow-{business.username}.svg"',
    }
    return Response(svg, headers=headers, media_type=SVG_TYPE)


@browser_errors
async def poster_page(request: Request) -> Response:
    """``/@{username}/poster``: the poster as a page that prints on one A4 or Letter sheet."""
    services: Services = request.app.state.services
    business = await live_business(services, request)
    urls = services.urls
    handle = urls.handle(business.username)
    profile_url = urls.profile_page(business.username)
    context = {
        "business": business,
        "handle": handle,
        "profile_url": profile_url,
        "how_to_follow": how_to_follow(handle),
        "qr": Markup(qr_svg(profile_url)),  # noqa: S704 (segno's SVG: path data, no text)
    }
    response = render(request, "poster.html", context)
    response.headers["Cache-Control"] = POSTER_CACHE
    return response


routes = [
    Route("/@{username}/poster", poster_page, methods=["GET"]),
    Route("/@{username}/poster.svg", poster_image, methods=["GET"]),
]
