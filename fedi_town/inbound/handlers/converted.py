"""Objects that are not notes, kept as notes the way Mastodon converts them.

A Mobilizon ``Event``, a PeerTube ``Video``, a Funkwhale ``Audio``, a Pixelfed or PeerTube
``Image``, a Lemmy ``Page`` or a blog's ``Article`` that mentions or replies to a business
reaches its owner as a note. Like Mastodon (``ActivityPub::Activity::Create``, its
``CONVERTED_TYPES``), the note says only what the object is called, its summary and a link
to it; we add a link to each attachment (Mastodon shows them as media, which we do not
download). The long body (an event's description, an article's text) stays at the link.

    converted_html(obj)  ->  sanitised HTML: <p><strong>name</strong></p> <p>summary</p>
                             <p><a href=url>url</a></p> <p><a href=attachment>name</a></p>…

Only http(s) links survive (``text.sanitize``); a link off the object's own host is replaced
by the object's id, as Mastodon does, so a note cannot pose as another site's page.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fedi_town.protocol.reading import (
    Activity,
    as_list,
    href_of,
    id_of,
    is_http_url,
    same_host,
    text_of,
)
from fedi_town.text.sanitize import html_to_text, sanitize_html

#: What Mastodon converts into a status instead of ignoring.
CONVERTED_TYPES = frozenset({"Article", "Audio", "Event", "Image", "Page", "Video"})
#: Mastodon keeps four attachments of a status.
MAX_ATTACHMENTS = 4
_MAX_TITLE = 500
_MAX_SUMMARY = 1000


def _plain(value: Any, value_map: Any, limit: int) -> str:
    """A name or summary as plain text (it may be HTML), cut to ``limit`` characters."""
    return html_to_text(sanitize_html(text_of(value, value_map)))[:limit].strip()


def _attachment_href(attachment: Any) -> str | None:
    """The file an attachment points at: its ``url`` (a string, or a Link of any type)."""
    if not isinstance(attachment, dict):
        return None
    for item in as_list(attachment.get("url")):
        if isinstance(item, str) and is_http_url(item):
            return item
        if isinstance(item, dict) and isinstance(href := item.get("href"), str):
            if is_http_url(href):
                return href
    return None


def _link(href: str, text: str) -> str:
    return f'<a href="{escape(href, quote=True)}">{escape(text)}</a>'


def page_url(obj: Activity) -> str | None:
    """Where to read the object: its HTML ``url`` on its own host, else its id."""
    uri = id_of(obj)
    url = href_of(obj.get("url"))
    if url and uri and same_host(url, uri):
        return url
    return uri if uri and is_http_url(uri) else None


def converted_html(obj: Activity) -> str:
    """The object as Mastodon would show it converted, plus its attachments' links."""
    paragraphs = []
    if title := _plain(obj.get("name"), obj.get("nameMap"), _MAX_TITLE):
        paragraphs.append(f"<strong>{escape(title)}</strong>")
    if summary := _plain(obj.get("summary"), obj.get("summaryMap"), _MAX_SUMMARY):
        paragraphs.append(escape(summary).replace("\n", "<br>"))
    if url := page_url(obj):
        paragraphs.append(_link(url, url))
    attachments = [a for a in as_list(obj.get("attachment")) if _attachment_href(a)]
    for attachment in attachments[:MAX_ATTACHMENTS]:
        href = _attachment_href(attachment)
        assert href is not None
        name = _plain(attachment.get("name"), None, _MAX_TITLE)
        kind = attachment.get("mediaType") if isinstance(attachment.get("mediaType"), str) else ""
        paragraphs.append(_link(href, name or f"Attachment{f' ({kind})' if kind else ''}"))
    return sanitize_html("".join(f"<p>{p}</p>" for p in paragraphs))
