"""Mastodon's paging words for every list: ``limit``, ``max_id`` (older than),
``since_id`` (newer than, the newest ones), ``min_id`` (newer than, the ones right after),
and the ``Link`` header that names the next (older) and previous (newer) pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fedi_town.mastodon import params
from fedi_town.protocol.ids import query_id, query_limit


@dataclass(frozen=True)
class Page:
    limit: int
    max_id: int | None
    since_id: int | None
    min_id: int | None


def page_of(query: dict[str, Any], *, default: int, maximum: int) -> Page:
    """The paging parameters of a query (400 for an id or a limit that is not a number; a
    limit above ``maximum`` is ``maximum``, as Mastodon clamps it)."""
    raw_limit = params.text(query, "limit")
    if raw_limit.isdigit() and len(raw_limit) < 10 and int(raw_limit) > maximum:
        raw_limit = str(maximum)
    return Page(
        limit=query_limit(raw_limit or None, default=default, maximum=maximum),
        max_id=query_id(params.text(query, "max_id") or None, "max_id"),
        since_id=query_id(params.text(query, "since_id") or None, "since_id"),
        min_id=query_id(params.text(query, "min_id") or None, "min_id"),
    )


def link(
    base_url: str,
    path: str,
    ids: Sequence[int],
    limit: int,
    extra: Sequence[tuple[str, str]] = (),
) -> dict[str, str]:
    """The ``Link`` header of a page whose items have ``ids`` (newest first); none for an
    empty page."""
    if not ids:
        return {}
    base = base_url.rstrip("/") + path + "?"
    older = urlencode([("max_id", ids[-1]), ("limit", limit), *extra])
    newer = urlencode([("min_id", ids[0]), ("limit", limit), *extra])
    return {"Link": f'<{base}{older}>; rel="next", <{base}{newer}>; rel="prev"'}
