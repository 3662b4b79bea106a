"""The high-street directory: one followable actor that boosts every member's public posts.

The directory is a ``businesses`` row of kind 'directory' (``store.directory``), so its key,
WebFinger, actor document (a ``Service``), inbox, follows and followers collection are the
businesses' own machinery. What it does of its own is here:

    boost       called in the transaction that publishes a post: when the author is a
                member and the post is public and top-level (or replies to the author's own
                post, a thread), Announce{post} to the directory's followers, signed by it
    unboost     called in the transaction that deletes a post: Undo{Announce} to every
                inbox each Announce of it reached
    put         the admin creates the directory (fresh key pair) or renames it
    remove      the admin deletes it: Delete{actor} to its followers, as for a business

Replies to others are not boosted: out of their thread they read as noise in a follower's
home timeline. Unlisted, followers-only and direct posts are never boosted (a boost makes a
post public). A business that leaves the directory is not boosted from then on; what was
boosted before stays boosted until the post is deleted.
"""

from __future__ import annotations

import logging
from typing import Any

from fedi_town.errors import Conflict, NotFound, Unprocessable
from fedi_town.outbound import profile
from fedi_town.protocol import activities
from fedi_town.protocol.keys import generate_rsa_keypair
from fedi_town.protocol.urls import Urls
from fedi_town.protocol.usernames import username_problem
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.store import businesses, outbox
from fedi_town.store import directory as store_directory
from fedi_town.store.businesses import Business
from fedi_town.store.effects import BusinessChanged
from fedi_town.store.posts import Post

log = logging.getLogger(__name__)


def default_summary(urls: Urls) -> str:
    """What the directory says of itself when the admin gives no summary (Markdown)."""
    return (
        f"The high street of {urls.domain}: this account boosts the public posts of every "
        "business here, so one follow brings them all. It is automated and does not read "
        "replies or messages."
    )


# -- boosting ------------------------------------------------------------------------------


def boosts(urls: Urls, business: Business, post: Post) -> bool:
    """Whether the directory boosts ``post`` of ``business`` (see the module docstring)."""
    if not store_directory.is_member(business) or not post.is_published:
        return False
    if post.visibility != "public":
        return False
    reply_to = post.in_reply_to_uri
    return reply_to is None or reply_to.startswith(f"{urls.actor(business.username)}/statuses/")


def announce_for(urls: Urls, directory: Business, business: Business, post: Post) -> dict[str, Any]:
    """The directory's Announce of ``post``: to Public, cc its followers and the author."""
    assert post.published_at is not None
    return activities.announce(
        id=urls.announce(directory.username, post.id),
        actor=urls.actor(directory.username),
        followers=urls.followers(directory.username),
        object=post.uri,
        object_author=urls.actor(business.username),
        published_ms=post.published_at,
    )


async def boost(services: Services, business: Business, post: Post) -> None:
    """Queue the directory's Announce of a post just published; call inside its transaction."""
    if not boosts(services.urls, business, post):
        return
    directory = await store_directory.find(services.store)
    if directory is None:
        return
    inboxes = await outbox.follower_inboxes(services.store, directory.id)
    if not inboxes:
        return
    await outbox.enqueue(
        services.store,
        business_id=directory.id,
        body=announce_for(services.urls, directory, business, post),
        inboxes=inboxes,
        post_id=post.id,
        now=services.now_ms(),
    )
    log.info("directory %s boosts post %d (%d inboxes)", directory.username, post.id, len(inboxes))


async def unboost(services: Services, post: Post) -> None:
    """Queue Undo{Announce} of every boost of a post being deleted; call inside its
    transaction. A boost whose directory is gone was undone by the directory's Delete."""
    for sent in await store_directory.announces_of(services.store, post.id):
        directory = await businesses.by_id(services.store, sent.business_id)
        if directory is None or directory.deleted_at is not None or not sent.inboxes:
            continue
        actor = services.urls.actor(directory.username)
        body = activities.undo(id=f"{sent.body['id']}/undo", actor=actor, activity=sent.body)
        await outbox.enqueue(
            services.store,
            business_id=directory.id,
            body=body,
            inboxes=sent.inboxes,
            post_id=post.id,
            now=services.now_ms(),
        )
        log.info("directory %s undoes its boost of post %d", directory.username, post.id)


# -- the admin's commands ----------------------------------------------------------------


def _problem(pointer: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors=[{"pointer": pointer, "message": message}])


async def put(services: Services, data: dict[str, Any]) -> tuple[Business, bool]:
    """Create the directory, or rename the one there is; return it and whether it is new.

    The username is fixed once created (it is in every follower's copy of the actor id):
    naming another is a 422. A username any business holds (or held) is a 409.
    """
    validate("directory-put", data)
    username = str(data["username"])
    display_name = str(data["display_name"]).strip()
    if not display_name:
        raise _problem("/display_name", "display_name is empty")
    existing = await store_directory.find(services.store)
    if existing is not None:
        if existing.username.lower() != username.lower():
            raise _problem(
                "/username", f"the directory is @{existing.username}; its username cannot change"
            )
        return await _rename(services, existing, display_name, data.get("summary")), False
    if problem := username_problem(username):
        raise _problem("/username", problem)
    private_pem, public_pem = generate_rsa_keypair()
    created = await store_directory.create(
        services.store,
        username=username,
        display_name=display_name,
        summary=str(data.get("summary") or default_summary(services.urls)),
        sealed_private_key=services.sealed_keys.seal(private_pem),
        public_key_pem=public_pem,
        now=services.now_ms(),
    )
    if created is None:
        raise Conflict(f"username {username!r} is taken")
    services.store.after_commit(BusinessChanged(created.username))
    log.info("created the directory %s", created.username)
    return created, True


async def _rename(
    services: Services, directory: Business, display_name: str, summary: str | None
) -> Business:
    changes: dict[str, Any] = {"display_name": display_name}
    if summary is not None:
        changes["summary"] = summary
    if all(getattr(directory, key) == value for key, value in changes.items()):
        return directory
    async with services.store.transaction():
        await businesses.update(services.store, directory.id, changes, now=services.now_ms())
        renamed = await businesses.by_id(services.store, directory.id)
        assert renamed is not None
        await profile.on_profile_changed(services, renamed)
        services.store.after_commit(BusinessChanged(renamed.username))
    log.info("renamed the directory %s", renamed.username)
    return renamed


async def remove(services: Services) -> None:
    """Delete the directory as a business is deleted: followers get Delete{actor}, its
    pending boosts are cancelled, the actor answers 410 and the username stays taken."""
    directory = await store_directory.find(services.store)
    if directory is None:
        raise NotFound("there is no directory")
    async with services.store.transaction():
        await businesses.mark_deleted(services.store, directory.id, now=services.now_ms())
        await profile.on_business_deleted(services, directory)
        services.store.after_commit(BusinessChanged(directory.username))
    log.info("deleted the directory %s", directory.username)
