"""A business's collections: outbox, followers, following, featured (pins), featured tags.

Mastodon reads the outbox only for ``totalItems``, followers/following for their counts (a
``first`` page must exist), and ``featured`` page 1 with the Notes embedded: the one way
posts show on a profile Mastodon has just discovered (interop §2, §5).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.protocol import activities, documents
from fedi_town.protocol.documents import Document
from fedi_town.protocol.vocabulary import NOTE_CONTEXT
from fedi_town.read.cache import FOLLOWERS, INSTANCE, business_group
from fedi_town.read.lookup import live_business
from fedi_town.read.negotiate import serve_document
from fedi_town.read.paging import page_number, paged
from fedi_town.services import Services
from fedi_town.store import following as following_store
from fedi_town.store import given as given_store
from fedi_town.store import reads
from fedi_town.store.document_inputs import announce_document, note_inputs

#: Mastodon pins at most 5; a few more do no harm, the whole list is one inline page.
FEATURED_LIMIT = 20


async def outbox(request: Request) -> Response:
    """``Create`` activities of the public and unlisted posts and the business's boosts
    (``Announce``), newest first."""
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        business = await live_business(services, request)
        urls = services.urls
        store = services.store
        total = await reads.count_posts(store, business.id)
        total += await given_store.count(store, business.id, given_store.ANNOUNCE)

        async def fetch(limit: int, offset: int) -> list[Any]:
            entries = await reads.outbox_entries(store, business.id, limit=limit, offset=offset)
            posts = [
                post
                for entry, entry_id in entries
                if entry == "post"
                and (post := await reads.post_by_id(store, business.id, entry_id)) is not None
            ]
            inputs = await note_inputs(store, urls, business, posts)
            creates = {
                post.id: activities.create_note(
                    urls.post_activity(business.username, post.id), item, context=False
                )
                for post, item in zip(posts, inputs, strict=True)
            }
            items: list[Any] = []
            for entry, entry_id in entries:
                if entry == "post" and entry_id in creates:
                    items.append(creates[entry_id])
                elif entry == "boost":
                    boost = await given_store.by_id(store, business.id, entry_id)
                    if boost is not None:
                        document = announce_document(urls, business.username, boost)
                        items.append({k: v for k, v in document.items() if k != "@context"})
            return items

        collection_id = urls.outbox(business.username)
        return await paged(collection_id, page_number(request), total, fetch, context=NOTE_CONTEXT)

    group = business_group(str(request.path_params["username"]))
    return await serve_document(request, build, cache_group=group)


async def followers(request: Request) -> Response:
    """Actor ids of accepted followers, newest first."""
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        business = await live_business(services, request)
        total = await reads.count_followers(services.store, business.id)

        async def fetch(limit: int, offset: int) -> list[Any]:
            return await reads.followers_page(
                services.store, business.id, limit=limit, offset=offset
            )

        collection_id = services.urls.followers(business.username)
        return await paged(collection_id, page_number(request), total, fetch)

    return await serve_document(request, build, cache_group=FOLLOWERS)


async def following(request: Request) -> Response:
    """Actor ids the business follows (accepted follows only), newest first."""
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        business = await live_business(services, request)
        total = await following_store.count_accepted(services.store, business.id)

        async def fetch(limit: int, offset: int) -> list[Any]:
            return await following_store.accepted_uris(
                services.store, business.id, limit=limit, offset=offset
            )

        collection_id = services.urls.following(business.username)
        return await paged(collection_id, page_number(request), total, fetch)

    return await serve_document(request, build, cache_group=FOLLOWERS)


async def featured(request: Request) -> Response:
    """Pinned posts, most recently pinned first, Notes embedded (Mastodon reads page 1 only)."""
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        business = await live_business(services, request)
        posts = await reads.pinned_posts(services.store, business.id, limit=FEATURED_LIMIT)
        notes = [
            documents.note(n, context=False)
            for n in await note_inputs(services.store, services.urls, business, posts)
        ]
        collection_id = services.urls.featured(business.username)
        return documents.inline_ordered_collection(collection_id, notes, context=NOTE_CONTEXT)

    group = business_group(str(request.path_params["username"]))
    return await serve_document(request, build, cache_group=group)


async def featured_tags(request: Request) -> Response:
    """Featured hashtags: a ``Collection`` (``items``, not ``orderedItems``) of ``Hashtag``s,
    each linking the business's own posts with that tag, as Mastodon serves them."""
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        business = await live_business(services, request)
        urls, name = services.urls, business.username
        return documents.featured_tags(
            urls.featured_tags(name),
            [(tag, urls.tag_page(name, tag)) for tag in business.featured_tags],
        )

    group = business_group(str(request.path_params["username"]))
    return await serve_document(request, build, cache_group=group)


async def instance_outbox(request: Request) -> Response:
    """The instance actor publishes nothing: an empty outbox."""
    services: Services = request.app.state.services

    async def build(fetcher: str | None) -> Document:
        async def fetch(limit: int, offset: int) -> list[Any]:
            return []

        return await paged(services.urls.instance_outbox(), page_number(request), 0, fetch)

    return await serve_document(request, build, guarded=False, cache_group=INSTANCE)


routes = [
    Route("/users/{username}/outbox", outbox, methods=["GET"]),
    Route("/users/{username}/followers", followers, methods=["GET"]),
    Route("/users/{username}/following", following, methods=["GET"]),
    Route("/users/{username}/collections/featured", featured, methods=["GET"]),
    Route("/users/{username}/collections/tags", featured_tags, methods=["GET"]),
    Route("/actor/outbox", instance_outbox, methods=["GET"]),
]
