"""Stored rows to the inputs of ``protocol.documents``: one mapping, used everywhere.

The actor URL, ``Update{actor}``, the outbox, ``featured``, Note URLs, ``Create{Note}`` and
the HTML pages all build from these, so a business or a post reads the same wherever it
appears. It sits below the ways so that read/ (which serves the documents) and outbound/
(which delivers them) share it without importing each other; it takes the store and the
``Urls`` it needs, nothing more.
"""

from __future__ import annotations

from fedi_town.protocol import documents
from fedi_town.protocol.documents import Document, Image, NoteInput
from fedi_town.protocol.urls import INSTANCE_ACTOR_USERNAME, Urls
from fedi_town.store import reads
from fedi_town.store.businesses import Business
from fedi_town.store.db import Store
from fedi_town.store.media import Media
from fedi_town.store.posts import Post
from fedi_town.text.render import markdown_to_html


def _image(urls: Urls, media: Media | None) -> Image | None:
    if media is None:
        return None
    return Image(url=urls.media(media.path), media_type=media.media_type)


async def actor_input(store: Store, urls: Urls, business: Business) -> documents.ActorInput:
    """Everything the actor document says about ``business``, URLs minted by ``Urls``."""
    name = business.username
    media = await reads.media_by_ids(store, [business.avatar_media_id, business.header_media_id])
    avatar = media.get(business.avatar_media_id) if business.avatar_media_id else None
    header = media.get(business.header_media_id) if business.header_media_id else None
    return documents.ActorInput(
        id=urls.actor(name),
        username=name,
        name=business.display_name,
        summary_html=markdown_to_html(business.summary),
        url=urls.profile_page(name),
        inbox=urls.inbox(name),
        outbox=urls.outbox(name),
        followers=urls.followers(name),
        following=urls.following(name),
        featured=urls.featured(name),
        featured_tags=urls.featured_tags(name),
        shared_inbox=urls.shared_inbox(),
        key_id=urls.key_id(name),
        public_key_pem=business.public_key_pem,
        published_ms=business.created_at,
        manually_approves_followers=business.manually_approves_followers,
        discoverable=business.discoverable,
        indexable=business.indexable,
        icon=_image(urls, avatar),
        image=_image(urls, header),
        website=business.website,
        phone=business.phone,
        address=business.address,
        fields=tuple(
            (str(f.get("name", "")), str(f.get("value", "")))
            for f in business.fields
            if f.get("name") and f.get("value")
        ),
        type="Service" if business.kind == "directory" else "Organization",
    )


async def actor_document(store: Store, urls: Urls, business: Business) -> Document:
    """The actor of a live business (never its private key)."""
    return documents.actor(await actor_input(store, urls, business))


def instance_actor_document(urls: Urls, *, name: str, public_key_pem: str) -> Document:
    """The instance actor, named ``name`` (the instance's), with its public key."""
    return documents.instance_actor(
        documents.InstanceActorInput(
            id=urls.instance_actor(),
            username=INSTANCE_ACTOR_USERNAME,
            name=name,
            url=urls.front_page(),
            inbox=urls.instance_actor_inbox(),
            outbox=urls.instance_outbox(),
            shared_inbox=urls.shared_inbox(),
            key_id=urls.instance_key_id(),
            public_key_pem=public_key_pem,
        )
    )


def _attachment(urls: Urls, media: Media) -> documents.Attachment:
    return documents.Attachment(
        url=urls.media(media.path),
        media_type=media.media_type,
        description=media.description,
        width=media.width,
        height=media.height,
        blurhash=media.blurhash,
    )


async def note_inputs(
    store: Store, urls: Urls, business: Business, posts: list[Post]
) -> list[NoteInput]:
    """The ``NoteInput`` of each published post, in the same order (media, counts batched)."""
    name = business.username
    ids = [p.id for p in posts]
    media = await reads.media_for_posts(store, ids)
    counts = await reads.interaction_counts(store, ids)
    replies_by_uri = await reads.reply_counts(store, [p.uri for p in posts], business.id)
    inputs = []
    for post in posts:
        assert post.published_at is not None, "only published posts become Notes"
        replies = replies_by_uri[post.uri]
        inputs.append(
            NoteInput(
                id=urls.post(name, post.id),
                attributed_to=urls.actor(name),
                followers=urls.followers(name),
                url=urls.post_page(name, post.id),
                content_html=post.content_html,
                published_ms=post.published_at,
                visibility=post.visibility,
                language=post.language,
                summary=post.spoiler_text or None,
                sensitive=post.sensitive,
                edited_ms=post.edited_at,
                in_reply_to=post.in_reply_to_uri,
                mentions=tuple(documents.Mention(m["href"], m["name"]) for m in post.mentions),
                hashtags=tuple(
                    documents.Hashtag(urls.tag_page(name, tag), tag) for tag in post.hashtags
                ),
                attachments=tuple(_attachment(urls, m) for m in media.get(post.id, [])),
                replies=urls.post_replies(name, post.id),
                replies_count=replies,
                likes=urls.post_likes(name, post.id),
                likes_count=counts[post.id]["like"],
                shares=urls.post_shares(name, post.id),
                shares_count=counts[post.id]["announce"],
            )
        )
    return inputs


async def note_document(store: Store, urls: Urls, business: Business, post: Post) -> Document:
    """The Note of one published post (with ``@context``)."""
    (note_input,) = await note_inputs(store, urls, business, [post])
    return documents.note(note_input)
