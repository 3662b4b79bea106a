"""Mastodon's paging words for every list: ``limit``, ``max_id`` (older than),
``since_id`` (newer than, the newest ones), ``min_id`` (newer than, the ones right after),
and the ``Link`` header that names the next (older) and previous (newer) pages.

    page_of(query, default=…, maximum=…)         the paging parameters of a request
    paged(services, path, page, items, ids, …)   the JSON answer of a page, with its Link

Lists differ in their Link as Mastodon's do: some name only the next (older) page
(``older_only``), some only when the page is full (``when_full``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from fedi_town.mastodon import params
from fedi_town.mastodon.auth import json
from fedi_town.protocol.ids import query_id, query_limit
from fedi_town.services import Services


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
    *,
    newer: bool = True,
) -> dict[str, str]:
    """The ``Link`` header of a page whose items have ``ids`` (newest first), naming the
    newer page too unless ``newer`` is false; none for an empty page."""
    if not ids:
        return {}
    base = base_url.rstrip("/") + path + "?"
    older = urlencode([("max_id", ids[-1]), ("limit", limit), *extra])
    links = [f'<{base}{older}>; rel="next"']
    if newer:
        newer_query = urlencode([("min_id", ids[0]), ("limit", limit), *extra])
        links.append(f'<{base}{newer_query}>; rel="prev"')
    return {"Link": ", ".join(links)}


def paged(
    services: Services,
    path: str,
    page: Page,
    items: Sequence[Any],
    ids: Sequence[int],
    *,
    extra: Sequence[tuple[str, str]] = (),
    older_only: bool = False,
    when_full: bool = False,
) -> Response:
    """The JSON answer of a page: ``items``, with the Link header of the page ``ids``
    (newest first) is paged by. ``older_only``: the Link names only the next (older)
    page; ``when_full``: a Link only when the page holds ``page.limit`` ids."""
    headers = {}
    if not when_full or len(ids) == page.limit:
        headers = link(
            services.settings.base_url, path, ids, page.limit, extra, newer=not older_only
        )
    return json(list(items), headers=headers)
