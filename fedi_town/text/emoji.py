"""Custom emoji in shown HTML: ``:shortcode:`` to a small ``<img>`` served by fedi-town.

Received HTML is stored sanitised, with every ``<img>`` of the sender's gone
(text/sanitize.py). ``emojify`` adds the only images it may hold, at view time, in text
(never inside a tag or an attribute), each pointing at ``/proxy/emoji/{sha-256 hex}`` on this
instance with the shortcode as ``alt`` and ``title``. ``sanitize_with_emoji`` is the second
cleaning of such HTML (the owner's pages clean what the API gives once more): the usual
allow-list, then every ``<img>`` is dropped except one whose ``src`` is an emoji path here,
and that one is written anew, so no attribute of anyone else's survives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from html.parser import HTMLParser

from fedi_town.text.sanitize import sanitize_html

#: Where a cached emoji is served; the only image source kept in shown HTML.
EMOJI_PATH = re.compile(r"/proxy/emoji/[0-9a-f]{64}\Z")
_SHORTCODE_IN_TEXT = re.compile(r":([A-Za-z0-9_]{1,64}):")
_ALT = re.compile(r":[A-Za-z0-9_]{1,64}:\Z")


def emoji_img(shortcode: str, src: str) -> str:
    """The one ``<img>`` fedi-town writes into shown HTML."""
    code = escape(f":{shortcode}:")
    return (
        f'<img class="emoji" src="{escape(src)}" alt="{code}" title="{code}" '
        'width="20" height="20" draggable="false">'
    )


class _Rewriter(HTMLParser):
    """Re-emits HTML as parsed, with text and ``<img>`` passed through two hooks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []

    def text(self, data: str) -> str:
        return data

    def image(self, attrs: dict[str, str | None]) -> str:
        return ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.out.append(self.image(dict(attrs)))
        else:
            self.out.append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(self.text(data))

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def rewrite(self, html: str) -> str:
        self.feed(html)
        self.close()
        return "".join(self.out)


class _Emojify(_Rewriter):
    def __init__(self, emojis: Mapping[str, str]) -> None:
        super().__init__()
        self.emojis = emojis

    def text(self, data: str) -> str:
        def swap(match: re.Match[str]) -> str:
            src = self.emojis.get(match.group(1))
            return emoji_img(match.group(1), src) if src else match.group(0)

        return _SHORTCODE_IN_TEXT.sub(swap, data)


class _OwnImagesOnly(_Rewriter):
    def image(self, attrs: dict[str, str | None]) -> str:
        src, alt = attrs.get("src") or "", attrs.get("alt") or ""
        if EMOJI_PATH.match(src) and _ALT.match(alt):
            return emoji_img(alt.strip(":"), src)
        return escape(alt) if _ALT.match(alt) else ""


def emojify(html: str, emojis: Mapping[str, str]) -> str:
    """``html`` (already sanitised) with each ``:code:`` in its text whose code is in
    ``emojis`` (shortcode -> ``/proxy/emoji/...`` path) shown as that image."""
    if not emojis or ":" not in html:
        return html
    return _Emojify({k: v for k, v in emojis.items() if EMOJI_PATH.match(v)}).rewrite(html)


def sanitize_with_emoji(html: str) -> str:
    """Clean HTML as ``sanitize_html`` does, keeping only the emoji images fedi-town wrote."""
    if "<img" not in html:
        return sanitize_html(html)
    cleaned = sanitize_html(html, image_source=lambda src: EMOJI_PATH.match(src) is not None)
    return _OwnImagesOnly().rewrite(cleaned)
