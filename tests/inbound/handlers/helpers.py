"""What the handler tests share: the remote accounts they play, and the check that handling an
activity a second time changes nothing."""

from __future__ import annotations

from tests.inbound.helpers import handle, snapshot

ALICE = "https://mastodon.example/users/alice"
ZORK = "https://gts.example/users/zork"
MISSKEY = "https://misskey.example/users/9lk2a1b2c3"
PIXEL = "https://pixelfed.example/users/alice"
HOLLO = "https://hollo.example/@alice"
HANDLE = "@bakery@town.example"


async def twice_changes_nothing(services, activity, **kwargs):
    before = await snapshot(services.store)
    await handle(services, activity, **kwargs)
    assert await snapshot(services.store) == before
