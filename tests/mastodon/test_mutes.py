"""Muting accounts through Mastodon.py on a live instance (both backends): the account's
posts leave the home timeline, its notifications go when asked, the relationship and the
mutes list say so; and a mute's duration, by the services clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError, return_types

from fedi_town.store import social
from fedi_town.store import timeline as timeline_store
from fedi_town.store.db import now_ms
from tests.inbound.helpers import add_remote_actor
from tests.live import wait_until
from tests.mastodon.flow import (
    SignedIn,
    bearer,
    business_with_token,
    calls_as,
    entity_gaps,
    token_for,
)
from tests.store.test_timeline import content

pytestmark = pytest.mark.anyio

BOB = "https://mastodon.example/users/bob"


async def _on_home(store, business_id: int, actor_id: int, uri: str) -> int:
    note_id = await social.insert_note(
        store, uri=uri, actor_id=actor_id, content=content(uri), now=now_ms()
    )
    await timeline_store.add(
        store,
        business_id=business_id,
        note_id=note_id,
        entry_uri=uri,
        boosted_by=None,
        now=now_ms(),
    )
    return note_id


async def test_muting_hides_posts_and_notifications_until_unmuted(live, peer, bakery_app: SignedIn):
    # Given the bakery signed in with Mastodon.py, alice elsewhere following it (a follow
    # notification), and a post of alice on its home timeline
    owner, token = bakery_app.owner, bakery_app.token
    call = bakery_app.call
    await peer.post(live.urls.inbox("bakery"), peer.follow(live.urls.actor("bakery")))
    [follow] = await wait_until(lambda: call("notifications"))
    alice = follow.account
    me = await call("account_verify_credentials")
    await _on_home(live.store, int(me.id), int(alice.id), f"{peer.base}/notes/1")
    assert len(await call("timeline_home")) == 1

    # When the app mutes alice (notifications too, the default)
    relationship = await call("account_mute", alice.id)
    # Then the relationship says so, her post leaves the home timeline and her notification
    # the notifications (the unread count too)
    assert relationship.muting is True and relationship.muting_notifications is True
    assert entity_gaps(return_types.Relationship, relationship) == []
    assert await call("timeline_home") == []
    assert await call("notifications") == []
    assert (await call("notifications_unread_count")).count == 0
    with pytest.raises(MastodonNotFoundError):  # nor read by its id
        await call("notifications", id=follow.id)
    [listed] = await call("mutes")
    assert listed.id == alice.id and listed.mute_expires_at is None
    assert entity_gaps(return_types.Account, listed) == []
    [again] = await call("account_relationships", alice.id)
    assert again.muting is True

    # When it mutes her again without notifications
    relationship = await call("account_mute", alice.id, notifications=False)
    # Then her notification is back, her post still hidden
    assert relationship.muting is True and relationship.muting_notifications is False
    assert [n.id for n in await call("notifications")] == [follow.id]
    assert (await call("notifications", id=follow.id)).id == follow.id
    assert await call("timeline_home") == []

    # When it unmutes her
    relationship = await call("account_unmute", alice.id)
    # Then all is shown again
    assert relationship.muting is False and relationship.muting_notifications is False
    assert len(await call("timeline_home")) == 1
    assert await call("mutes") == []
    # And nothing was sent to her server about any of it
    assert not [r for r in peer.received if r.type in ("Block", "Undo")]

    # Given two muted accounts
    bob = await add_remote_actor(live.store, BOB)
    await call("account_mute", alice.id)
    await call("account_mute", bob.id, duration=3600)
    # When the app pages the mutes one at a time, through the Link header
    first = await call("mutes", limit=1)
    second = await call("fetch_next", first)
    # Then the newest mute comes first, with its expiry, then the other
    assert [a.id for a in first] == [str(bob.id)] and first[0].mute_expires_at is not None
    assert [a.id for a in second] == [alice.id]

    # And bad input: an unknown account is 404, a word for a duration 422, a token without
    # write:mutes 403 (read:mutes for the list), and the business cannot mute itself
    with pytest.raises(MastodonNotFoundError):
        await call("account_mute", "123456789")
    word = await live.client.post(
        f"/api/v1/accounts/{alice.id}/mute", data={"duration": "soon"}, headers=bearer(token)
    )
    assert word.status_code == 422 and "error" in word.json()
    narrow_token = await token_for(live.client, owner, scopes="read:accounts write:statuses")
    narrow = await calls_as(live, narrow_token)
    for method, args in (("account_mute", (alice.id,)), ("mutes", ())):
        with pytest.raises(MastodonAPIError) as refused:
            await narrow(method, *args)
        assert refused.value.args[1] == 403


async def test_a_mute_with_a_duration_ends_by_the_services_clock(clocked_client, clock):
    # Given the bakery, and bob on its home timeline
    _owner, token = await business_with_token(clocked_client)
    store = clocked_client.services.store
    me = (
        await clocked_client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
    ).json()
    bob = await add_remote_actor(store, BOB)
    await _on_home(store, int(me["id"]), bob.id, f"{BOB}/statuses/1")
    # And a token of the florist, which mutes nobody
    _other, florist = await business_with_token(clocked_client, "florist")

    # When the bakery mutes bob for a minute
    muted = await clocked_client.post(
        f"/api/v1/accounts/{bob.id}/mute", data={"duration": "60"}, headers=bearer(token)
    )
    # Then he is muted until then
    assert muted.status_code == 200 and muted.json()["muting"] is True
    home = await clocked_client.get("/api/v1/timelines/home", headers=bearer(token))
    assert home.json() == []
    [listed] = (await clocked_client.get("/api/v1/mutes", headers=bearer(token))).json()
    assert listed["mute_expires_at"] is not None
    # And the florist's token sees no mute of its own, and cannot lift the bakery's
    theirs = await clocked_client.get("/api/v1/mutes", headers=bearer(florist))
    assert theirs.json() == []
    await clocked_client.post(f"/api/v1/accounts/{bob.id}/unmute", headers=bearer(florist))
    still = await clocked_client.get("/api/v1/timelines/home", headers=bearer(token))
    assert still.json() == []

    # When a minute and a second have passed
    clock.advance(timedelta(seconds=61))
    # Then the mute is over everywhere
    home = await clocked_client.get("/api/v1/timelines/home", headers=bearer(token))
    assert len(home.json()) == 1
    relation = await clocked_client.get(
        f"/api/v1/accounts/relationships?id[]={bob.id}", headers=bearer(token)
    )
    assert relation.json()[0]["muting"] is False
    assert (await clocked_client.get("/api/v1/mutes", headers=bearer(token))).json() == []
