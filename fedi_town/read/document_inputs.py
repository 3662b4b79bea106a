"""Stored rows to the inputs of ``protocol.documents``: one mapping, used everywhere.

The actor URL, ``Update{actor}``, the outbox, ``featured``, Note URLs, ``Create{Note}`` and
the HTML pages all build from these, so a business or a post reads the same wherever it
appears. The outbound side calls ``actor_document`` and ``note_document`` /
``note_inputs`` + ``documents.create_activity`` for what it delivers.
"""

from __future__ import annotations

from fedi_town.protocol import documents
from fedi_town.protocol.documents import Document, Image, NoteInput
from fedi_town.protocol.urls import INSTANCE_ACTOR_USERNAME
from fedi_town.services import Services
from fedi_town.store import reads
from fedi_town.store.businesses import Business
from fedi_town.store.media import Media
from fedi_town.store.posts import Post
from fedi_town.text.render import markdown_to_html


def _image(services: Services, media: Media | None) -> Image | None:
    if media is None:
        return None
    return Image(url=services.urls.media(media.path), media_type=media.media_type)


async def actor_input(services: Services, business: Business) -> documents.ActorInput:
    """Everything the actor document says about ``business``, URLs minted by ``Urls``."""
    urls = services.urls
    name = business.username
    media = await reads.media_by_ids(
        services.store, [business.avatar_media_id, business.header_media_id]
    )
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
        icon=_image(services, avatar),
        image=_image(services, header),
        website=business.website,
        phone=business.phone,
        address=business.address,
        fields=tuple(
            (str(f.get("name", "")), str(f.get("value", "")))
            for f in business.fields
            if f.get("name") and f.get("value")
        ),
    )


async def actor_document(services: Services, business: Business) -> Document:
    """The actor of a live business (never its private key)."""
    return documents.actor(await actor_input(services, business))


def instance_actor_document(services: Services) -> Document:
    """The instance actor, with the key read at start (``services.instance_key``)."""
    urls = services.urls
    return documents.instance_actor(
        documents.InstanceActorInput(
            id=urls.instance_actor(),
            username=INSTANCE_ACTOR_USERNAME,
            name=services.settings.instance_name,
            url=urls.front_page(),
            inbox=urls.instance_actor_inbox(),
            outbox=urls.instance_outbox(),
            shared_inbox=urls.shared_inbox(),
            key_id=urls.instance_key_id(),
            public_key_pem=services.started_instance_key().public_pem,
        )
    )


def _attachment(services: Services, media: Media) -> documents.Attachment:
    return documents.Attachment(
        url=services.urls.media(media.path),
        media_type=media.media_type,
        description=media.description,
        width=media.width,
        height=media.height,
        blurhash=media.blurhash,
    )


async def note_inputs(services: Services, business: Business, posts: list[Post]) -> list[NoteInput]:
    """The ``NoteInput`` of each published post, in the same order (media, counts batched)."""
    urls = services.urls
    name = business.username
    ids = [p.id for p in posts]
    media = await reads.media_for_posts(services.store, ids)
    counts = await reads.interaction_counts(services.store, ids)
    replies_by_uri = await reads.reply_counts(services.store, [p.uri for p in posts], business.id)
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
                attachments=tuple(_attachment(services, m) for m in media.get(post.id, [])),
                replies=urls.post_replies(name, post.id),
                replies_count=replies,
                likes=urls.post_likes(name, post.id),
                likes_count=counts[post.id]["like"],
                shares=urls.post_shares(name, post.id),
                shares_count=counts[post.id]["announce"],
            )
        )
    return inputs


async def note_document(services: Services, business: Business, post: Post) -> Document:
    """The Note of one published post (with ``@context``)."""
    (note_input,) = await note_inputs(services, business, [post])
    return documents.note(note_input)
