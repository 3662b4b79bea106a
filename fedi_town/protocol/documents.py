"""ActivityStreams documents as Mastodon reads them: actors, Notes, collections.

PURE: standard library only. Each builder takes a frozen input (plain values, URLs already
minted by ``Urls``) and returns a fresh dict, so the read side serves it, the outbound side
wraps it in Create/Update (``protocol.activities``), and a cache can keep the serialised bytes.

The shapes follow the Mastodon interop checklist (sections 2, 4, 5): plain unprefixed keys
(Mastodon does no JSON-LD processing), ``attachment`` always a list, ``icon``/``image``
always objects, collections with a ``first`` page (or Mastodon hides follower lists).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from fedi_town.protocol import quotes
from fedi_town.protocol.urls import Urls
from fedi_town.protocol.vocabulary import (
    ACTOR_CONTEXT,
    AS_CONTEXT,
    AS_PUBLIC,
    BUSINESS_TERMS,
    HASHTAG_CONTEXT,
    NOTE_CONTEXT,
    iso8601,
)

Document = dict[str, Any]
Visibility = Literal["public", "unlisted", "followers", "direct"]
#: Mastodon shows Organization as a normal account and Service with a bot badge (interop §2).
ActorType = Literal["Organization", "Service"]


# --- actors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """An avatar or header: Mastodon wants an object, never a bare URL string."""

    url: str
    media_type: str


@dataclass(frozen=True)
class Address:
    """A published address on one line, and a map link to it (OpenStreetMap)."""

    text: str
    map_url: str | None = None


@dataclass(frozen=True)
class ActorInput:
    """What a business actor document says; every URL minted by ``Urls``."""

    id: str
    username: str
    name: str
    summary_html: str
    url: str
    inbox: str
    outbox: str
    followers: str
    following: str
    featured: str
    featured_tags: str
    shared_inbox: str
    key_id: str
    public_key_pem: str
    published_ms: int
    manually_approves_followers: bool = False
    discoverable: bool = True
    indexable: bool = True
    icon: Image | None = None
    image: Image | None = None
    website: str | None = None
    phone: str | None = None
    address: str | None = None
    #: (name, plain-text value) pairs written by the owner
    fields: tuple[tuple[str, str], ...] = ()
    #: (name, HTML value) pairs that read differently with time ("Now": "Open · until
    #: 18:00", a notice, today's hours), shown first: Mastodon before 4.5.5 keeps only four
    live_fields: tuple[tuple[str, str], ...] = ()
    #: the structured address (replaces the free-text ``address``), or the service area
    located_at: Address | None = None
    service_area: str | None = None
    email: str | None = None
    #: (name, HTML value) pairs of the current offer and the next event, after the contact
    listings: tuple[tuple[str, str], ...] = ()
    #: the business as schema.org ``LocalBusiness`` terms with ``type`` as the type key
    #: (``business.schema_org.local_business``); empty when it gave no structured data
    local_business: Mapping[str, Any] = field(default_factory=dict)
    #: "Organization" for a business; "Service" for the directory, which boosts by itself
    type: ActorType = "Organization"
    #: the owner's other accounts (actor ids): an account moving here must be named
    also_known_as: tuple[str, ...] = ()
    #: the actor id this business moved to, once it sent ``Move``
    moved_to: str | None = None


@dataclass(frozen=True)
class InstanceActorInput:
    """The instance actor (``Application``) that signs our server-to-server GETs."""

    id: str
    username: str
    name: str
    url: str
    inbox: str
    outbox: str
    shared_inbox: str
    key_id: str
    public_key_pem: str


_URL_RE = re.compile(r"\Ahttps?://[^\s<>\"']+\Z", re.IGNORECASE)


def link_html(url: str) -> str:
    """One ``<a>`` whose text equals its href, so Mastodon can verify it (rel=me)."""
    escaped = html.escape(url, quote=True)
    return (
        f'<a href="{escaped}" rel="me nofollow noopener noreferrer" target="_blank">{escaped}</a>'
    )


def phone_html(phone: str) -> str:
    """A phone number as a ``tel:`` link (digits and a leading ``+`` only in the href)."""
    digits = re.sub(r"[^0-9+]", "", phone)
    digits = digits[:1] + digits[1:].replace("+", "")
    if not any(c.isdigit() for c in digits):
        return html.escape(phone)
    return f'<a href="tel:{digits}">{html.escape(phone)}</a>'


def field_value_html(value: str) -> str:
    """An owner's field value: escaped text, or a verifiable link when it is just a URL."""
    value = value.strip()
    if _URL_RE.match(value):
        return link_html(value)
    return "<br>".join(html.escape(line) for line in value.splitlines())


def address_html(address: Address) -> str:
    """The address, linked to its map when there is one."""
    text = html.escape(address.text)
    if not address.map_url:
        return text
    href = html.escape(address.map_url, quote=True)
    return f'<a href="{href}" rel="nofollow noopener noreferrer" target="_blank">{text}</a>'


def email_html(email: str) -> str:
    escaped = html.escape(email, quote=True)
    return f'<a href="mailto:{escaped}">{escaped}</a>'


def profile_fields(actor: ActorInput) -> list[Document]:
    """``attachment`` as PropertyValues: the live fields (notice, open now, today's hours),
    where, phone, website, email, the current offer and next event, then the owner's own
    fields. Mastodon before 4.5.5 keeps
    the first four, so what a customer asks first comes first."""
    pairs: list[tuple[str, str]] = list(actor.live_fields)
    if actor.located_at:
        pairs.append(("Address", address_html(actor.located_at)))
    elif actor.service_area:
        pairs.append(("Area", html.escape(actor.service_area)))
    elif actor.address:
        pairs.append(("Address", field_value_html(actor.address)))
    if actor.phone:
        pairs.append(("Phone", phone_html(actor.phone)))
    if actor.website:
        pairs.append(("Website", link_html(actor.website)))
    if actor.email:
        pairs.append(("Email", email_html(actor.email)))
    pairs += actor.listings
    pairs += [(name, field_value_html(value)) for name, value in actor.fields]
    return [{"type": "PropertyValue", "name": name, "value": value} for name, value in pairs]


def attribution_domain(website: str | None) -> str | None:
    """The domain of the business's own website, for ``attributionDomains``: Mastodon 4.4+
    credits the business on link previews of pages there (and under it) that name it in
    ``<meta name="fediverse:creator">``. A leading ``www.`` is dropped so the bare domain's
    pages count too; an IP address or a dotless host is no domain to credit."""
    if not website:
        return None
    try:
        host = (urlsplit(website).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    host = host.removeprefix("www.")
    if "." not in host or ":" in host or host.replace(".", "").isdigit():
        return None
    return host


def _image(image: Image) -> Document:
    return {"type": "Image", "mediaType": image.media_type, "url": image.url}


def actor(a: ActorInput) -> Document:
    """A business as an ``Organization`` (a normal account in Mastodon, no bot badge), or
    the high-street directory as a ``Service`` (a bot badge: it boosts automatically)."""
    doc: Document = {
        "@context": ACTOR_CONTEXT,
        "id": a.id,
        "type": a.type,
        "following": a.following,
        "followers": a.followers,
        "inbox": a.inbox,
        "outbox": a.outbox,
        "featured": a.featured,
        "featuredTags": a.featured_tags,
        "preferredUsername": a.username,
        "name": a.name,
        "summary": a.summary_html,
        "url": a.url,
        "manuallyApprovesFollowers": a.manually_approves_followers,
        "discoverable": a.discoverable,
        "indexable": a.indexable,
        "published": iso8601(a.published_ms),
        "memorial": False,
        "publicKey": {"id": a.key_id, "owner": a.id, "publicKeyPem": a.public_key_pem},
        "tag": [],
        "attachment": profile_fields(a),
        "endpoints": {"sharedInbox": a.shared_inbox},
    }
    if domain := attribution_domain(a.website):
        doc["attributionDomains"] = [domain]
    if a.icon is not None:
        doc["icon"] = _image(a.icon)
    if a.image is not None:
        doc["image"] = _image(a.image)
    if a.also_known_as:
        doc["alsoKnownAs"] = list(a.also_known_as)
    if a.moved_to is not None:
        doc["movedTo"] = a.moved_to
    if a.local_business:
        doc["@context"] = [*ACTOR_CONTEXT, BUSINESS_TERMS]
        doc |= business_terms(a.local_business)
    return doc


def departing_actor(a: ActorInput) -> Document:
    """A deleted business while its ``Delete`` is still being delivered: what Mastodon
    serves of an account it is deleting (``suspended``, no profile, the key kept), so a
    server without the key cached can still verify the ``Delete``. Only ids and the key
    of ``a`` are used."""
    doc = actor(
        ActorInput(
            id=a.id,
            username=a.username,
            name=a.username,
            summary_html="",
            url=a.url,
            inbox=a.inbox,
            outbox=a.outbox,
            followers=a.followers,
            following=a.following,
            featured=a.featured,
            featured_tags=a.featured_tags,
            shared_inbox=a.shared_inbox,
            key_id=a.key_id,
            public_key_pem=a.public_key_pem,
            published_ms=a.published_ms,
            discoverable=False,
            indexable=False,
            type=a.type,
        )
    )
    doc["suspended"] = True
    return doc


#: schema.org keys of a ``LocalBusiness`` that an actor carries as they are.
_COPIED_TERMS = (
    "openingHoursSpecification",
    "telephone",
    "email",
    "priceRange",
    "areaServed",
)


def business_terms(local_business: Mapping[str, Any]) -> Document:
    """What an actor says of its business in schema.org terms: ``additionalType`` (its
    category's schema.org type), ``location`` (an AS2 ``Place`` holding the schema.org
    ``PostalAddress`` and the coordinates, as FEP-8a8e places an Event), the hours and the
    contact. Mastodon shows none of it (the readable ``attachment`` fields say the same)."""
    terms: Document = {"additionalType": f"https://schema.org/{local_business['type']}"}
    address = local_business.get("address")
    geo = local_business.get("geo")
    if address or geo:
        place: Document = {"type": "Place", "name": local_business.get("name")}
        if address:
            place["address"] = dict(address)
        if geo:
            place["latitude"] = geo["latitude"]
            place["longitude"] = geo["longitude"]
        terms["location"] = place
    for key in _COPIED_TERMS:
        if key in local_business:
            terms[key] = local_business[key]
    return terms


def instance_actor(a: InstanceActorInput) -> Document:
    """The instance actor: ``Application``, locked, served unsigned (interop S4, W4)."""
    return {
        "@context": ACTOR_CONTEXT,
        "id": a.id,
        "type": "Application",
        "preferredUsername": a.username,
        "name": a.name,
        "inbox": a.inbox,
        "outbox": a.outbox,
        "url": a.url,
        "manuallyApprovesFollowers": True,
        "discoverable": False,
        "indexable": False,
        "publicKey": {"id": a.key_id, "owner": a.id, "publicKeyPem": a.public_key_pem},
        "endpoints": {"sharedInbox": a.shared_inbox},
    }


# --- notes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mention:
    """A mentioned actor: ``href`` is its actor id (a profile URL notifies nobody)."""

    href: str
    name: str


@dataclass(frozen=True)
class Hashtag:
    """A hashtag; ``name`` without the ``#``, ``href`` our tag page."""

    href: str
    name: str


@dataclass(frozen=True)
class Attachment:
    """A media file attached to a Note."""

    url: str
    media_type: str
    description: str = ""
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None


@dataclass(frozen=True)
class PollInput:
    """A post's poll: it makes the Note a ``Question`` (as Mastodon writes one)."""

    options: tuple[str, ...]
    #: votes per option, in the same order
    counts: tuple[int, ...]
    multiple: bool
    ends_ms: int
    voters: int
    closed: bool


@dataclass(frozen=True)
class NoteInput:
    """What a Note says; ``visibility`` decides its addressing."""

    id: str
    attributed_to: str
    followers: str
    url: str
    content_html: str
    published_ms: int
    visibility: str
    language: str | None = None
    summary: str | None = None
    sensitive: bool = False
    edited_ms: int | None = None
    in_reply_to: str | None = None
    mentions: tuple[Mention, ...] = ()
    hashtags: tuple[Hashtag, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    replies: str | None = None
    replies_count: int = 0
    likes: str | None = None
    likes_count: int = 0
    shares: str | None = None
    shares_count: int = 0
    #: who may quote it (``protocol.quotes.effective_policy``)
    quote_policy: str = "anyone"
    #: the post it quotes, and the stamp its author granted (FEP-044f)
    quote: str | None = None
    quote_authorization: str | None = None
    poll: PollInput | None = None


def addressing(
    visibility: str, followers: str, mentions: tuple[Mention, ...]
) -> tuple[list[str], list[str]]:
    """``(to, cc)`` exactly as Mastodon addresses each visibility.

    public: to Public, cc followers; unlisted: to followers, cc Public; followers: to
    followers; direct: to the mentioned actors. Mentioned actors go in ``cc`` otherwise.
    An unknown visibility is treated as followers-only (never more public than asked).
    """
    mentioned = list(dict.fromkeys(m.href for m in mentions))
    if visibility == "public":
        return [AS_PUBLIC], [followers, *mentioned]
    if visibility == "unlisted":
        return [followers], [AS_PUBLIC, *mentioned]
    if visibility == "direct":
        return mentioned, []
    return [followers], mentioned


def _attachment(item: Attachment) -> Document:
    kind = "Image" if item.media_type.startswith("image/") else "Document"
    doc: Document = {
        "type": kind,
        "mediaType": item.media_type,
        "url": item.url,
        "name": item.description or None,
    }
    if item.blurhash:
        doc["blurhash"] = item.blurhash
    if item.width and item.height:
        doc["width"] = item.width
        doc["height"] = item.height
    return doc


def note(n: NoteInput, *, context: bool = True) -> Document:
    """A Note; ``context=False`` when it is embedded in an activity or a collection."""
    to, cc = addressing(n.visibility, n.followers, n.mentions)
    content = n.content_html + (quotes.fallback_html(n.quote) if n.quote else "")
    doc: Document = {"@context": NOTE_CONTEXT} if context else {}
    doc |= {
        "id": n.id,
        "type": "Note",
        "summary": n.summary or None,
        "inReplyTo": n.in_reply_to,
        "published": iso8601(n.published_ms),
        "url": n.url,
        "attributedTo": n.attributed_to,
        "to": to,
        "cc": cc,
        "sensitive": n.sensitive or bool(n.summary),
        "content": content,
    }
    if n.edited_ms is not None:
        doc["updated"] = iso8601(n.edited_ms)
    if n.language:
        doc["contentMap"] = {n.language: content}
    doc["attachment"] = [_attachment(a) for a in n.attachments]
    doc["tag"] = [{"type": "Mention", "href": m.href, "name": m.name} for m in n.mentions] + [
        {"type": "Hashtag", "href": h.href, "name": f"#{h.name}"} for h in n.hashtags
    ]
    if n.replies is not None:
        doc["replies"] = {
            "id": n.replies,
            "type": "OrderedCollection",
            "totalItems": n.replies_count,
            "first": collection_page_url(n.replies, 1),
        }
    if n.likes is not None:
        doc["likes"] = {"id": n.likes, "type": "Collection", "totalItems": n.likes_count}
    if n.shares is not None:
        doc["shares"] = {"id": n.shares, "type": "Collection", "totalItems": n.shares_count}
    if n.quote:
        doc |= {"quote": n.quote, "quoteUri": n.quote, "_misskey_quote": n.quote}
        if n.quote_authorization:
            doc["quoteAuthorization"] = n.quote_authorization
    policy = quotes.effective_policy(n.quote_policy, "nobody", n.visibility)
    doc["interactionPolicy"] = quotes.interaction_policy(
        policy, actor=n.attributed_to, followers=n.followers
    )
    if n.poll is not None:
        _question(doc, n.poll)
    return doc


def _question(doc: Document, poll: PollInput) -> None:
    """Make ``doc`` a ``Question``: each option a ``Note`` whose ``replies.totalItems`` is
    its votes, under ``anyOf`` (several choices) or ``oneOf``; ``endTime``, ``votersCount``
    and, once over, ``closed`` (Mastodon's ``ActivityPub::NoteSerializer``)."""
    doc["type"] = "Question"
    key = "anyOf" if poll.multiple else "oneOf"
    doc[key] = [
        {"type": "Note", "name": title, "replies": {"type": "Collection", "totalItems": votes}}
        for title, votes in zip(poll.options, poll.counts, strict=True)
    ]
    doc["endTime"] = iso8601(poll.ends_ms)
    doc["votersCount"] = poll.voters
    if poll.closed:
        doc["closed"] = iso8601(poll.ends_ms)


# --- collections ----------------------------------------------------------------------------


def collection_page_url(collection_id: str, page: int) -> str:
    """The URL of page ``page`` (1-based) of a collection: under the collection's own URL."""
    return Urls.collection_page(collection_id, page)


def ordered_collection(collection_id: str, total: int, *, context: Any = AS_CONTEXT) -> Document:
    """An ``OrderedCollection`` with its count and a ``first`` page (even when empty)."""
    return {
        "@context": context,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": collection_page_url(collection_id, 1),
    }


def ordered_collection_page(
    collection_id: str,
    page: int,
    items: list[Any],
    *,
    has_next: bool,
    context: Any = AS_CONTEXT,
) -> Document:
    """Page ``page`` of an ordered collection, linked to its neighbours and its collection."""
    doc: Document = {
        "@context": context,
        "id": collection_page_url(collection_id, page),
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "orderedItems": items,
    }
    if has_next:
        doc["next"] = collection_page_url(collection_id, page + 1)
    if page > 1:
        doc["prev"] = collection_page_url(collection_id, page - 1)
    return doc


def inline_ordered_collection(
    collection_id: str, items: list[Any], *, context: Any = AS_CONTEXT
) -> Document:
    """An ``OrderedCollection`` with every item inline (``featured``: Mastodon reads page 1)."""
    return {
        "@context": context,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }


def unordered_collection(collection_id: str, items: list[Any]) -> Document:
    """A ``Collection`` with ``items`` inline (``featuredTags``)."""
    return {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "Collection",
        "totalItems": len(items),
        "items": items,
    }


def featured_tags(collection_id: str, tags: list[tuple[str, str]]) -> Document:
    """``featuredTags``: (name without ``#``, href) pairs as Mastodon's ``Hashtag`` items,
    in a ``Collection`` whose ``@context`` names ``Hashtag`` (Mastodon keeps the first 10)."""
    items = [{"type": "Hashtag", "href": href, "name": f"#{name}"} for name, href in tags]
    return unordered_collection(collection_id, items) | {"@context": HASHTAG_CONTEXT}


def counted_collection(collection_id: str, total: int) -> Document:
    """A ``Collection`` that tells only how many (a Note's likes and shares, as Mastodon)."""
    return {"@context": AS_CONTEXT, "id": collection_id, "type": "Collection", "totalItems": total}
