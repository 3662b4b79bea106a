"""Mastodon 4.4's JSON entities built from what is stored: Account, Status,
MediaAttachment, Notification (docs.joinmastodon.org/entities/).

Ids are strings (our snowflakes), times ISO 8601 with milliseconds and ``Z``. A business is
an Account whose ``acct`` is its bare username (it is local); a remote actor's ``acct`` is
``user@domain``. Our ``followers`` visibility is Mastodon's ``private``. Remote notes that
reached the business (mentions, replies) are Statuses too, with the note's row id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from fedi_town import __version__
from fedi_town.protocol import quotes
from fedi_town.services import Services
from fedi_town.store import actors, businesses, polls, reads, social
from fedi_town.store import media as media_store
from fedi_town.store import posts as post_store
from fedi_town.store import quotes as quote_store
from fedi_town.store.actors import RemoteActor
from fedi_town.store.businesses import Business
from fedi_town.store.db import Store
from fedi_town.store.media import Media
from fedi_town.store.posts import Post
from fedi_town.text.render import markdown_to_html

#: Our visibility words → Mastodon's.
VISIBILITY_OUT = {"public": "public", "unlisted": "unlisted", "followers": "private"}
VISIBILITY_IN = {"public": "public", "unlisted": "unlisted", "private": "followers"}
#: Our notification types → Mastodon's (``report`` is an admin's, not shown here).
NOTIFICATION_TYPES = {
    "follow": "follow",
    "follow_request": "follow_request",
    "mention": "mention",
    "reply": "mention",
    "like": "favourite",
    "boost": "reblog",
}
DEFAULT_AVATAR = "/static/avatar.png"
MASTODON_VERSION = f"4.4.0 (compatible; fedi-town {__version__})"


def iso(ms: int | None) -> str | None:
    """Epoch milliseconds as Mastodon writes times: ``2026-12-07T12:00:00.000Z``."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def date_only(ms: int | None) -> str | None:
    """Mastodon's ``last_status_at``: a day, not a time."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def _default_avatar(services: Services) -> str:
    return services.settings.base_url.rstrip("/") + DEFAULT_AVATAR


async def business_account(
    services: Services, business: Business, *, credentials: bool = False
) -> dict[str, Any]:
    """The Account of a business (the CredentialAccount, with ``source``, when signed in
    as it)."""
    urls = services.urls
    counts = await businesses.counts(services.store, business.id)
    avatar = await media_store.public_url(services.store, urls, business.avatar_media_id)
    header = await media_store.public_url(services.store, urls, business.header_media_id)
    last = await reads.last_published_at(services.store, business.id)
    avatar = avatar or _default_avatar(services)
    header = header or ""
    fields = [
        {"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": None}
        for f in business.fields
    ]
    account: dict[str, Any] = {
        "id": str(business.id),
        "username": business.username,
        "acct": business.username,
        "display_name": business.display_name,
        "locked": business.manually_approves_followers,
        "bot": False,
        "discoverable": business.discoverable,
        "indexable": business.indexable,
        "group": False,
        "created_at": iso(business.created_at),
        "note": markdown_to_html(business.summary) if business.summary else "",
        "url": urls.profile_page(business.username),
        "uri": urls.actor(business.username),
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": counts["followers"],
        "following_count": counts["following"],
        "statuses_count": counts["posts"],
        "last_status_at": date_only(last),
        "hide_collections": False,
        "noindex": not business.indexable,
        "emojis": [],
        "roles": [],
        "fields": fields,
    }
    if credentials:
        account["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": "",
            "note": business.summary,
            "fields": [{"name": f["name"], "value": f["value"]} for f in fields],
            "follow_requests_count": 0,
            "hide_collections": False,
            "discoverable": business.discoverable,
            "indexable": business.indexable,
            "attribution_domains": [],
        }
        account["role"] = {
            "id": "-99",
            "name": "",
            "permissions": "0",
            "color": "",
            "highlighted": False,
        }
    return account


def remote_account(services: Services, actor: RemoteActor) -> dict[str, Any]:
    """The Account of someone elsewhere, from what we stored of their actor; ``emojis`` are
    the custom emoji of its name that the cache holds, served from this instance."""
    username = actor.username or actor.uri.rstrip("/").rsplit("/", 1)[-1]
    avatar = actor.icon_url or _default_avatar(services)
    return {
        "id": str(actor.id),
        "username": username,
        "acct": f"{username}@{actor.domain}",
        "display_name": actor.display_name or "",
        "locked": False,
        "bot": actor.type in ("Service", "Application"),
        "discoverable": None,
        "indexable": False,
        "group": actor.type == "Group",
        "created_at": iso(actor.fetched_at),
        "note": "",
        "url": actor.url or actor.uri,
        "uri": actor.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": "",
        "header_static": "",
        "followers_count": 0,
        "following_count": 0,
        "statuses_count": 0,
        "last_status_at": None,
        "hide_collections": None,
        "noindex": None,
        "emojis": [
            {
                "shortcode": code,
                "url": services.urls.base + path,
                "static_url": services.urls.base + path,
                "visible_in_picker": False,
            }
            for code, path in actor.name_emojis().items()
        ],
        "roles": [],
        "fields": [],
        "moved": None,
    }


def media_attachment(services: Services, media: Media) -> dict[str, Any]:
    """A MediaAttachment (every upload is an image; the stored file is its own preview)."""
    url = services.urls.media(media.path)
    meta: dict[str, Any] = {}
    if media.width and media.height:
        size = {
            "width": media.width,
            "height": media.height,
            "size": f"{media.width}x{media.height}",
            "aspect": media.width / media.height,
        }
        meta = {"original": size, "small": dict(size)}
    return {
        "id": str(media.id),
        "type": "image",
        "url": url,
        "preview_url": url,
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": media.description or None,
        "blurhash": media.blurhash,
    }


async def post_status(
    services: Services,
    business: Business,
    post: Post,
    *,
    account: dict[str, Any] | None = None,
    media: Sequence[Media] | None = None,
    in_reply_to_id: str | None = None,
    application: Mapping[str, Any] | None = None,
    shallow_quote: bool = False,
) -> dict[str, Any]:
    """The Status of one of the business's posts (``shallow_quote``: its ``quote`` names
    the quoted status by id only, as Mastodon nests a quote inside a quote)."""
    store = services.store
    if media is None:
        media = await media_store.of_post(store, post.id)
    if account is None:
        account = await business_account(services, business)
    counts = (await reads.interaction_counts(store, [post.id]))[post.id]
    reply_account = None
    if post.in_reply_to_uri and in_reply_to_id is None:
        in_reply_to_id, reply_account = await _replied_to(store, post.in_reply_to_uri)
    replies = await reads.count_all_replies(store, post.uri)
    poll = await polls.of_post(store, post.id)
    urls = services.urls
    mentions = []
    for mention in post.mentions:
        handle = mention.get("name", "").lstrip("@")
        user, _, _host = handle.partition("@")
        found = await actors.by_uri(store, mention.get("href", ""))
        mentions.append(
            {
                "id": str(found.id) if found is not None else "0",
                "username": user,
                "url": mention.get("href", ""),
                "acct": handle,
            }
        )
    return {
        "id": str(post.id),
        "uri": post.uri,
        "url": urls.post_page(business.username, post.id),
        "created_at": iso(post.published_at or post.created_at),
        "account": account,
        "content": post.content_html,
        "visibility": VISIBILITY_OUT.get(post.visibility, "direct"),
        "sensitive": post.sensitive or bool(post.spoiler_text),
        "spoiler_text": post.spoiler_text,
        "media_attachments": [media_attachment(services, m) for m in media],
        "application": dict(application) if application else None,
        "mentions": mentions,
        "tags": [
            {"name": tag, "url": urls.tag_page(business.username, tag)} for tag in post.hashtags
        ],
        "emojis": [],
        "reblogs_count": counts["announce"],
        "favourites_count": counts["like"],
        "replies_count": replies,
        "quotes_count": 0,
        "edited_at": iso(post.edited_at),
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "pinned": post.pinned_at is not None,
        "language": post.language,
        "in_reply_to_id": in_reply_to_id,
        "in_reply_to_account_id": reply_account,
        "reblog": None,
        "poll": poll_entity(poll, services.now_ms(), own=True) if poll else None,
        "card": None,
        "text": None,
        "filtered": [],
        "quote": await _quote(services, post, shallow=shallow_quote),
        "quote_approval": quote_approval(business, post),
    }


def quote_approval(business: Business, post: Post) -> dict[str, Any]:
    """Mastodon 4.5's QuoteApproval of a business's post, from its effective quote policy
    (``anyone``: automatic for the public, ``followers``: for followers, ``ask``: manual
    for the public, ``nobody``: neither). ``current_user`` is the author's own view
    (``automatic``, as Mastodon lets an author quote itself; ``denied`` for a direct post);
    ``viewer_quote_approval`` changes it for another viewer."""
    policy = quotes.effective_policy(post.quote_policy, business.quote_policy, post.visibility)
    automatic = {"anyone": ["public"], "followers": ["followers"]}.get(policy, [])
    manual = ["public"] if policy == quotes.ASK else []
    direct = VISIBILITY_OUT.get(post.visibility, "direct") == "direct"
    current = "denied" if direct else "automatic"
    return {"automatic": automatic, "manual": manual, "current_user": current}


def viewer_quote_approval(statuses: Sequence[dict[str, Any]], viewer_id: str | None) -> None:
    """Set ``quote_approval.current_user`` of Statuses for a viewer that is not their
    author (``viewer_id``: the business's account id; None: no signed-in account, always
    ``denied`` as Mastodon answers). Another business may quote a public or unlisted post
    whose policy lets the public quote (``automatic``) or ask (``manual``); a
    followers-only policy counts as ``denied`` (who follows whom among businesses here
    is not looked up)."""
    for status in statuses:
        approval = status.get("quote_approval")
        if not isinstance(approval, dict) or status["account"]["id"] == viewer_id:
            continue
        current = "denied"
        if viewer_id is not None and status.get("visibility") in ("public", "unlisted"):
            if "public" in approval["automatic"]:
                current = "automatic"
            elif "public" in approval["manual"]:
                current = "manual"
        approval["current_user"] = current


#: FEP-044f states of our quotes (``posts.quote_state``) that Mastodon 4.5 names alike.
QUOTE_STATES = ("pending", "accepted", "rejected", "revoked")


async def _quote(services: Services, post: Post, *, shallow: bool) -> dict[str, Any] | None:
    """Mastodon 4.5's Quote of a post that quotes another (None for one that does not):
    ``state``, and when accepted the quoted Status (a ShallowQuote, with its id only, when
    ``shallow``). An accepted quote of a post no longer stored here, or not public, is
    ``unauthorized`` (the app cannot be shown it); one deleted here is ``deleted``."""
    if not post.quote_uri:
        return None
    state = post.quote_state if post.quote_state in QUOTE_STATES else "pending"
    quoted: dict[str, Any] | None = None
    if state == "accepted":
        state, quoted = await _quoted(services, post.quote_uri, shallow=shallow)
    if shallow:
        return {"state": state, "quoted_status_id": quoted["id"] if quoted else None}
    return {"state": state, "quoted_status": quoted}


async def note_quotes(services: Services, statuses: Sequence[dict[str, Any]]) -> None:
    """Set ``quote`` on the Statuses of notes from elsewhere that quote a post (FEP-044f
    ``quote``, or ``quoteUri``/``_misskey_quote``, in the stored document). The state: a
    quote of a business's post here is ``accepted`` while the business's stamp for it
    exists, ``revoked`` when the note names a stamp that is gone, else ``pending``; a
    quote of another post is ``accepted`` when the note carries a stamp
    (``quoteAuthorization``, taken as given, not fetched) or quotes its own author, else
    ``pending``. An accepted one holds the quoted Status as ``GET /api/v1/statuses``
    would (``deleted``/``unauthorized`` when it cannot be shown)."""
    notes = [s for s in statuses if "quote_approval" not in s and s.get("quote") is None]
    if not notes:
        return
    store = services.store
    found = await social.documents_by_uri(store, [str(s["uri"]) for s in notes])
    for status in notes:
        if str(status["uri"]) not in found:
            continue
        actor_id, document = found[str(status["uri"])]
        target = quotes.quoted_by(document)
        if target is None:
            continue
        stamp = quotes.authorization_of(document)
        own = await post_store.by_uri(store, target)
        if own is not None:
            granted = await quote_store.stamp_for(store, own.id, str(status["uri"]))
            state = "accepted" if granted else ("revoked" if stamp else "pending")
        else:
            quoted_note = await social.note_by_uri(store, target)
            self_quote = quoted_note is not None and quoted_note.actor_id == actor_id
            state = "accepted" if stamp or self_quote else "pending"
        shown = None
        if state == "accepted":
            state, shown = await _quoted(services, target, shallow=False)
        status["quote"] = {"state": state, "quoted_status": shown}


async def _quoted(
    services: Services, uri: str, *, shallow: bool
) -> tuple[str, dict[str, Any] | None]:
    """The state and Status (only ``id`` when ``shallow``) of an accepted quote's post."""
    store = services.store
    own = await post_store.by_uri(store, uri)
    if own is not None:
        owner = await businesses.by_id(store, own.business_id)
        if owner is None or owner.deleted_at is not None:
            return "deleted", None
        if own.visibility not in ("public", "unlisted"):
            return "unauthorized", None
        if shallow:
            return "accepted", {"id": str(own.id)}
        return "accepted", await post_status(services, owner, own, shallow_quote=True)
    if await post_store.was_deleted(store, uri):
        return "deleted", None
    note = await social.note_by_uri(store, uri)
    if note is None or note.visibility not in ("public", "unlisted"):
        return "unauthorized", None
    if shallow:
        return "accepted", {"id": str(note.id)}
    author = await actors.by_id(store, note.actor_id)
    if author is None:
        return "unauthorized", None
    fields = {
        "id": note.id,
        "uri": note.uri,
        "url": note.url,
        "content_html": note.content_html,
        "summary": note.summary,
        "visibility": note.visibility,
        "published_at": note.published_at,
        "edited_at": note.edited_at,
    }
    return "accepted", note_status(services, fields, remote_account(services, author))


def poll_entity(
    poll: polls.Poll, now: int, *, own: bool = False, chosen: Sequence[int] = ()
) -> dict[str, Any]:
    """The Poll of a post (its id is the post's). As Mastodon: the author counts as having
    voted; with ``hide_totals`` the counts are null until it closes."""
    expired = poll.closed(now)
    shown = expired or not poll.hide_totals
    return {
        "id": str(poll.post_id),
        "expires_at": iso(poll.expires_at),
        "expired": expired,
        "multiple": poll.multiple,
        "votes_count": sum(poll.counts),
        "voters_count": poll.voters,
        "voted": own or bool(chosen),
        "own_votes": list(chosen),
        "options": [
            {"title": title, "votes_count": count if shown else None}
            for title, count in zip(poll.options, poll.counts, strict=True)
        ],
        "emojis": [],
    }


def received_poll(note: Mapping[str, Any], now: int) -> dict[str, Any] | None:
    """The Poll of a remote note that has one (``remote_notes.poll``,
    ``protocol.note_parts.Poll``), id the note's. ``voted``/``own_votes`` are filled in
    only by ``GET /api/v1/polls/{id}`` (``mastodon/polls.py``)."""
    raw = note["poll"] if "poll" in note else None
    if not raw:
        return None
    poll = json.loads(raw) if isinstance(raw, str) else raw
    ends = poll.get("ends_at")
    options = poll.get("options") or []
    return {
        "id": str(note["id"]),
        "expires_at": iso(ends),
        "expired": bool(poll.get("closed")) or (ends is not None and ends <= now),
        "multiple": bool(poll.get("multiple")),
        "votes_count": sum(int(o.get("votes", 0)) for o in options),
        "voters_count": poll.get("voters"),
        "voted": False,
        "own_votes": [],
        "options": [
            {"title": str(o.get("title", "")), "votes_count": int(o.get("votes", 0))}
            for o in options
        ],
        "emojis": [],
    }


async def _replied_to(store: Store, uri: str) -> tuple[str | None, str | None]:
    """The status id and account id of what ``uri`` names: one of our posts, or a remote
    note we stored; (None, None) for one we never saw."""
    own = await post_store.by_uri(store, uri)
    if own is not None:
        return str(own.id), str(own.business_id)
    note = await social.note_by_uri(store, uri)
    if note is not None:
        return str(note.id), str(note.actor_id)
    return None, None


def note_status(
    services: Services, note: Mapping[str, Any], account: dict[str, Any]
) -> dict[str, Any]:
    """The Status of a remote note (a row of ``remote_notes``: id, uri, url, content_html,
    summary, visibility, published_at, edited_at)."""
    visibility = str(note["visibility"])
    summary = note["summary"] or ""
    return {
        "id": str(note["id"]),
        "uri": note["uri"],
        "url": note["url"] or note["uri"],
        "created_at": iso(int(note["published_at"])),
        "account": account,
        "content": note["content_html"],
        "visibility": VISIBILITY_OUT.get(visibility, "direct"),
        "sensitive": bool(summary),
        "spoiler_text": summary,
        "media_attachments": [],
        "application": None,
        "mentions": [],
        "tags": [],
        "emojis": [],
        "reblogs_count": 0,
        "favourites_count": 0,
        "replies_count": 0,
        "quotes_count": 0,
        "edited_at": iso(note["edited_at"]),
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "pinned": False,
        "language": None,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": None,
        "poll": received_poll(note, services.now_ms()),
        "card": None,
        "text": None,
        "filtered": [],
        "quote": None,
    }
