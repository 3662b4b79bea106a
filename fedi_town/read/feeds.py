"""Atom and RSS feeds of a business's public posts: ``/@{username}/feed.atom`` and ``.rss``.

The same posts as the profile page (public and unlisted, published, not deleted, newest
first), written by ``feedgenerator`` (Django's feed writer, kept up by the Pelican project;
pure Python). Each entry: id = the Note's id, link = its page, the post's HTML (sanitised
when written) as ``type="html"`` content, images and files as enclosures (RSS allows one),
author = the business. XML escaping is the writer's: the HTML goes in escaped exactly once,
so a reader shows "Coffee & cake", never "Coffee &amp; cake".

Answers carry an ``ETag`` (a digest of the bytes; ``If-None-Match`` gets a 304) and a
``Last-Modified`` (the newest post or profile change): feed readers poll often.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.protocol.documents import NoteInput
from fedi_town.read.lookup import live_business
from fedi_town.read.negotiate import browser_errors
from fedi_town.services import Services
from fedi_town.store import reads
from fedi_town.store.businesses import Business
from fedi_town.store.document_inputs import actor_input, note_inputs
from fedi_town.text.sanitize import html_to_text

if TYPE_CHECKING:
    from feedgenerator import SyndicationFeed

Kind = Literal["atom", "rss"]

FEED_POSTS = 20
TITLE_CHARS = 80
#: Readers poll every few minutes; a shared cache may answer them for five.
FEED_CACHE = "public, max-age=300"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"

#: Characters XML 1.0 cannot carry; the writer refuses them, so they are dropped first.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` without the control characters XML 1.0 forbids."""
    return _NOT_XML.sub("", text)


def entry_title(note: NoteInput, limit: int = TITLE_CHARS) -> str:
    """A post's title: its content warning, else its first line of text cut at a word near
    ``limit``, else its first attachment's description; plain text (the writer escapes)."""
    if note.summary:
        text = note.summary
    else:
        lines = [line.strip() for line in html_to_text(note.content_html).splitlines()]
        text = next((line for line in lines if line), "")
    if not text:
        text = next((a.description for a in note.attachments if a.description), "")
    text = " ".join(text.split()) or "Post"
    if len(text) <= limit:
        return text
    return (text[:limit].rsplit(" ", 1)[0] or text[:limit]) + "…"


def moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@dataclass(frozen=True)
class Feed:
    """What both feeds say about a business, read once from the store."""

    business: Business
    title: str
    description: str
    profile_url: str
    notes: list[NoteInput]
    #: bytes of each attachment by URL (RSS enclosures must state a length)
    sizes: dict[str, int]
    updated: datetime


async def load_feed(services: Services, business: Business) -> Feed:
    """The business's recent public posts with their attachments' sizes."""
    store, urls = services.store, services.urls
    posts = await reads.posts_page(store, business.id, limit=FEED_POSTS)
    notes = await note_inputs(store, urls, business, posts)
    media = await reads.media_for_posts(store, [p.id for p in posts])
    sizes = {urls.media(m.path): m.size_bytes for items in media.values() for m in items}
    actor = await actor_input(store, urls, business)
    newest = max((n.edited_ms or n.published_ms for n in notes), default=0)
    return Feed(
        business=business,
        title=business.display_name,
        description=" ".join(html_to_text(actor.summary_html).split()),
        profile_url=urls.profile_page(business.username),
        notes=notes,
        sizes=sizes,
        updated=moment(max(newest, business.updated_at)),
    )


def _writer(base: type[SyndicationFeed], updated: datetime) -> type[SyndicationFeed]:
    """``base`` whose feed-level date is ``updated``, not the wall clock the library reads
    for a feed without entries."""

    class Writer(base):  # type: ignore[misc]
        def latest_post_date(self) -> datetime:
            return updated

    return Writer


def render_feed(feed: Feed, kind: Kind, self_url: str) -> bytes:
    """The feed as Atom or RSS 2.0, UTF-8."""
    # Imported with the first feed: a process serving federation alone never needs it
    # (idle RSS target: 80 MB).
    from feedgenerator import Atom1Feed, Enclosure, Rss201rev2Feed  # deferred: first feed only

    atom = kind == "atom"
    base: type[SyndicationFeed] = Atom1Feed if atom else Rss201rev2Feed
    name = xml_text(feed.title)
    writer: Any = _writer(base, feed.updated)(
        title=name,
        link=feed.profile_url,
        description=xml_text(feed.description) or f"Posts of {name}",
        author_name=name,
        author_link=feed.profile_url,
        feed_url=self_url,
        feed_guid=feed.profile_url,
    )
    for note in feed.notes:
        html = xml_text(note.content_html)
        enclosures = [
            Enclosure(a.url, str(feed.sizes.get(a.url, 0)), a.media_type) for a in note.attachments
        ]
        writer.add_item(
            title=xml_text(entry_title(note)),
            link=note.url,
            # Atom: the HTML as <content type="html">; RSS: as <description>.
            description=None if atom else html,
            content=html if atom else None,
            author_name=name,
            author_link=feed.profile_url,
            pubdate=moment(note.published_ms),
            updateddate=moment(note.edited_ms or note.published_ms),
            unique_id=note.id,
            unique_id_is_permalink=False,
            enclosures=enclosures if atom else enclosures[:1],
            categories=[h.name for h in note.hashtags],
        )
    data: bytes = writer.writeString("utf-8").encode("utf-8")
    return data


def feed_response(request: Request, body: bytes, media_type: str, updated: datetime) -> Response:
    """200 with the caching headers, or 304 when the reader already has these bytes."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "Cache-Control": FEED_CACHE,
        "ETag": etag,
        "Last-Modified": format_datetime(updated, usegmt=True),
        "Access-Control-Allow-Origin": "*",
    }
    given = request.headers.get("if-none-match", "")
    asked = [tag.strip().removeprefix("W/") for tag in given.split(",")]
    if etag in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    return Response(body, headers=headers, media_type=media_type)


def _endpoint(
    kind: Kind, media_type: str, url: Callable[[Services, str], str]
) -> Callable[[Request], Any]:
    @browser_errors
    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        business = await live_business(services, request)
        feed = await load_feed(services, business)
        body = render_feed(feed, kind, url(services, business.username))
        return feed_response(request, body, media_type, feed.updated)

    return endpoint


atom = _endpoint("atom", ATOM_TYPE, lambda s, name: s.urls.feed_atom(name))
rss = _endpoint("rss", RSS_TYPE, lambda s, name: s.urls.feed_rss(name))

routes = [
    Route("/@{username}/feed.atom", atom, methods=["GET"]),
    Route("/@{username}/feed.rss", rss, methods=["GET"]),
]
