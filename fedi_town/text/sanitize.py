"""HTML sanitising with nh3 (the Rust ammonia crate): inbound content and owner-written HTML.

The allowed set follows what Mastodon keeps (lib/sanitize_ext/sanitize_config.rb): text
formatting, links and lists; never images, scripts, styles or event handlers. Links get
``rel="nofollow noopener noreferrer"``. Classes are kept only where Mastodon gives them
meaning (mentions, hashtags, invisible/ellipsis link parts, the quote fallback).
"""

from __future__ import annotations

from collections.abc import Callable
from html import unescape

import nh3

_TAGS = {
    "p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong",
    "u", "i", "em", "ul", "ol", "li",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "translate"},
    "span": {"translate"},
    "ol": {"start", "reversed"},
    "li": {"value"},
    "p": set(),
}
_CLASSES = {
    "a": {"mention", "hashtag", "u-url", "status-link", "unhandled-link"},
    "span": {"h-card", "invisible", "ellipsis", "tag"},
    "p": {"quote-inline"},
}
_SCHEMES = {"http", "https", "mailto", "xmpp", "tel", "geo", "gopher", "dat", "ipfs", "magnet"}
#: Built once: ``nh3.clean`` converts its arguments and builds the cleaner anew at every call,
#: which cost about 4x the cleaning of a short note (15 us against 3-4 us).
_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    attributes=_ATTRIBUTES,
    allowed_classes=_CLASSES,
    url_schemes=_SCHEMES,
    link_rel="nofollow noopener noreferrer",
    strip_comments=True,
)
_TEXT_ONLY = nh3.Cleaner(tags=set())


def sanitize_html(html: str, *, image_source: Callable[[str], bool] | None = None) -> str:
    """Clean HTML from another server (or a form) so it is safe to store and show.

    ``image_source`` keeps ``<img src alt>`` whose ``src`` it accepts (text/emoji.py: our
    own emoji paths, a second cleaning of what we wrote); without it no image is kept."""
    # Headings become strong, as Mastodon renders them; nh3 would drop the tag but keep text.
    for level in range(1, 7):
        html = html.replace(f"<h{level}>", "<p><strong>").replace(f"</h{level}>", "</strong></p>")
    if image_source is None:
        return _CLEANER.clean(html)

    def own_images(element: str, attribute: str, value: str) -> str | None:
        if element == "img" and attribute == "src" and not image_source(value):
            return None
        return value

    return nh3.clean(
        html,
        tags=_TAGS | {"img"},
        attributes={**_ATTRIBUTES, "img": {"src", "alt"}},
        allowed_classes=_CLASSES,
        url_schemes=_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
        attribute_filter=own_images,
    )


def html_to_text(html: str) -> str:
    """Plain text of sanitised HTML, for previews, notifications and meta tags.

    nh3 keeps entities escaped (``&amp;``); the result is unescaped once, so a template,
    which escapes again, shows ``&`` and not ``&amp;``."""
    text = html.replace("<br>", "\n").replace("</p>", "\n\n")
    return unescape(_TEXT_ONLY.clean(text)).strip()
