"""Who may read a post: the one rule every Note URL, collection and page goes through."""

from __future__ import annotations

from fedi_town.store import reads
from fedi_town.store.db import Store
from fedi_town.store.posts import Post
from fedi_town.store.reads import PUBLIC_VISIBILITIES


async def can_see(store: Store, post: Post, fetcher_actor_uri: str | None) -> bool:
    """Whether the fetcher may read ``post``: public/unlisted for all, others only signed.

    ``fetcher_actor_uri`` is the actor whose signature the fetch guard verified (see
    ``read.negotiate``), or None for an anonymous request: then only public and unlisted
    posts are visible. A signed fetcher sees a followers-only post when it is an accepted
    follower or mentioned, and a direct post when it is mentioned.
    """
    if post.visibility in PUBLIC_VISIBILITIES:
        return True
    if fetcher_actor_uri is None:
        return False
    if any(m["href"] == fetcher_actor_uri for m in post.mentions):
        return post.visibility in {"followers", "direct"}
    if post.visibility == "followers":
        return await reads.is_follower(store, post.business_id, fetcher_actor_uri)
    return False
