"""Who favourited or reblogged a post, through Mastodon.py on a live instance with a real
peer server (both backends): the accounts whose Like and Announce reached the post."""

from __future__ import annotations

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError, return_types

from tests.live import wait_until
from tests.mastodon.flow import business_with_token, calls_as, entity_gaps, token_for

pytestmark = pytest.mark.anyio


async def test_favourited_by_and_reblogged_by_list_who_reacted(live, peer):
    # Given a post of the bakery that alice and bob elsewhere liked, and alice boosted
    owner, token = await business_with_token(live.client)
    call = await calls_as(live, token)
    status = await call("status_post", "Croissants at 7")
    inbox = live.urls.inbox("bakery")
    await peer.post(inbox, peer.like(status.uri))
    await peer.post(inbox, peer.like(status.uri, name="bob"), name="bob")
    await peer.post(inbox, peer.announce(status.uri, live.urls.actor("bakery")))

    async def all_in() -> bool:
        likes = await call("status_favourited_by", status.id)
        return len(likes) == 2 and bool(await call("status_reblogged_by", status.id))

    await wait_until(all_in)

    # When the app asks who favourited and who reblogged it
    likers = await call("status_favourited_by", status.id)
    boosters = await call("status_reblogged_by", status.id)
    # Then it gets their accounts, with every field Mastodon.py declares
    assert sorted(a.acct for a in likers) == [f"alice@{peer.host}", f"bob@{peer.host}"]
    assert [a.acct for a in boosters] == [f"alice@{peer.host}"]
    raw = await live.client.get(f"/api/v1/statuses/{status.id}/favourited_by")
    for account in raw.json():
        assert entity_gaps(return_types.Account, account) == []

    # When it reads them one at a time, through the Link header
    first = await call("status_favourited_by", status.id)
    paged = await live.client.get(f"/api/v1/statuses/{status.id}/favourited_by?limit=1")
    older = paged.headers["link"].split(">")[0].lstrip("<")
    rest = await live.client.get(older)
    # Then the second page holds the older like
    assert [a["id"] for a in paged.json()] == [first[0].id]
    assert [a["id"] for a in rest.json()] == [first[1].id]

    # And a public post is readable without a token; a followers-only one only with the
    # business's own; an unknown id is 404; a token without read:accounts is 403
    anonymous = await calls_as(live, None)
    assert len(await anonymous("status_favourited_by", status.id)) == 2
    hidden = await call("status_post", "Staff only", visibility="private")
    assert await call("status_reblogged_by", hidden.id) == []
    with pytest.raises(MastodonNotFoundError):
        await anonymous("status_favourited_by", hidden.id)
    _other, florist = await business_with_token(live.client, "florist")
    with pytest.raises(MastodonNotFoundError):
        await (await calls_as(live, florist))("status_favourited_by", hidden.id)
    with pytest.raises(MastodonNotFoundError):
        await call("status_reblogged_by", "123456789")
    narrow = await calls_as(live, await token_for(live.client, owner, scopes="read:statuses"))
    with pytest.raises(MastodonAPIError) as refused:
        await narrow("status_favourited_by", status.id)
    assert refused.value.args[1] == 403
