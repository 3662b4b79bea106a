"""Paging of ordered collections: ``?page=N`` (1-based), 20 items a page.

The collection URL answers ``OrderedCollection{totalItems, first}``; ``first`` is always
there, even when empty, or Mastodon marks follower lists hidden (interop §5). Page ids are
``{collection}?page=N`` exactly, so a page's ``id`` equals the URL it is fetched at.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

from fedi_town.errors import BadRequest
from fedi_town.protocol import documents
from fedi_town.protocol.documents import Document
from fedi_town.protocol.vocabulary import AS_CONTEXT

PAGE_SIZE = 20
MAX_PAGE = 1_000_000

PageFetcher = Callable[[int, int], Awaitable[list[Any]]]


def page_number(request: Request) -> int | None:
    """The ``page`` query parameter: None for the collection itself, else a page number."""
    raw = request.query_params.get("page")
    if raw is None:
        return None
    digits = raw.isascii() and raw.isdigit() and not raw.startswith("0") and len(raw) <= 7
    if not digits or int(raw) > MAX_PAGE:
        raise BadRequest("page must be a whole number from 1")
    return int(raw)


async def paged(
    collection_id: str,
    page: int | None,
    total: int,
    fetch: PageFetcher,
    *,
    context: Any = AS_CONTEXT,
) -> Document:
    """The collection (``page`` None) or one of its pages; ``fetch(limit, offset)`` lists items."""
    if page is None:
        return documents.ordered_collection(collection_id, total, context=context)
    offset = (page - 1) * PAGE_SIZE
    items = await fetch(PAGE_SIZE, offset) if offset < total else []
    return documents.ordered_collection_page(
        collection_id, page, items, has_next=offset + len(items) < total, context=context
    )
