"""Real-world activities from ``payloads`` with fixed ids, for hostile tests to mutate."""

from __future__ import annotations

from typing import Any

from tests.inbound import payloads as p
from tests.inbound.helpers import keypair

ACTOR = "https://remote.example/users/alice"
BIZ = "https://town.example/users/bakery"
POST = "https://town.example/users/bakery/posts/1"
HANDLE = "@bakery@town.example"


def real_activities(actor: str = ACTOR, biz: str = BIZ, post: str = POST) -> list[dict[str, Any]]:
    """One activity of each shape the big servers send, from ``actor`` to ``biz``."""
    pem = keypair()[1]
    return [
        p.mastodon_follow(actor, biz),
        p.mastodon_undo_follow(actor, biz),
        p.mastodon_like(actor, post),
        p.mastodon_undo_like(actor, post),
        p.mastodon_announce(actor, biz, post),
        p.mastodon_create_reply(actor, biz, post, handle=HANDLE),
        p.mastodon_update_note(actor, biz, post, handle=HANDLE),
        p.mastodon_delete_note(actor),
        p.mastodon_update_person(actor, name="Alice", public_pem=pem),
        p.mastodon_delete_actor(actor),
        p.mastodon_block(actor, biz),
        p.gotosocial_like(actor, post, biz),
        p.gotosocial_create_reply(actor, biz, post, handle=HANDLE),
        p.misskey_like(actor, post),
        p.misskey_mention(actor, biz, handle=HANDLE),
        p.pixelfed_announce(actor, biz, post),
        p.fedify_like(actor, post),
    ]
