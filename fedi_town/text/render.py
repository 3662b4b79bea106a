"""Owner-written text to HTML: Markdown (CommonMark, raw HTML off) then sanitised.

Owners write in a phone keyboard, so plain line breaks are kept (``breaks``). Bare URLs stay
text (``linkify`` is off); only Markdown links are links. Raw HTML in the source is shown as
text, never interpreted.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape
from typing import TYPE_CHECKING

from fedi_town.text.sanitize import sanitize_html

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Imported on first render, not at start: ~4 MB the idle process does not need.
    from markdown_it import MarkdownIt  # deferred: RSS, first render only

    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
    md.enable(["strikethrough"])
    return md


def markdown_to_html(source: str) -> str:
    """Render owner Markdown to the HTML subset Mastodon keeps."""
    html = _markdown().render(source)
    return sanitize_html(html).strip()


def plain_to_html(text: str) -> str:
    """Plain text (a phone number, an address) as escaped HTML with line breaks."""
    return "<br>".join(escape(line) for line in text.splitlines())
