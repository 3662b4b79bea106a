"""Bookmarks through Mastodon.py on a live instance (both backends): kept per business,
marked on statuses, listed newest first with Link paging, refused where they should be."""

from __future__ import annotations

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError, return_types

from tests.mastodon.flow import bearer, business_with_token, calls_as, entity_gaps, token_for

pytestmark = pytest.mark.anyio


async def test_bookmarks_are_kept_marked_paged_and_taken_back(live):
    # Given the bakery's app, two posts of its own and a public post of the florist here
    owner, token = await business_with_token(live.client)
    _other, florist_token = await business_with_token(live.client, "florist")
    call = await calls_as(live, token)
    florist = await calls_as(live, florist_token)
    tulips = await florist("status_post", "Tulips are in")
    loaves = [await call("status_post", f"Loaf {n}") for n in range(2)]

    # When it bookmarks all three (one twice)
    marked = await call("status_bookmark", tulips.id)
    await call("status_bookmark", tulips.id)
    for loaf in loaves:
        await call("status_bookmark", loaf.id)
    # Then the answer is the Status, bookmarked, and reading it says so too
    assert marked.bookmarked is True and marked.id == tulips.id
    assert entity_gaps(return_types.Status, marked) == []
    assert (await call("status", tulips.id)).bookmarked is True
    # But not for the florist: bookmarks are the bakery's own
    assert (await florist("status", tulips.id)).bookmarked is False
    assert await florist("bookmarks") == []

    # When the app pages its bookmarks two at a time, through the Link header
    first = await call("bookmarks", limit=2)
    second = await call("fetch_next", first)
    # Then the newest bookmark comes first, each marked
    assert [s.id for s in first] == [loaves[1].id, loaves[0].id]
    assert [s.id for s in second] == [tulips.id]
    assert all(s.bookmarked for s in [*first, *second])
    # And the previous page leads back to the newer ones
    back = await call("fetch_previous", second)
    assert [s.id for s in back] == [loaves[1].id, loaves[0].id]

    # When it takes one back, and the florist deletes the post it kept
    unmarked = await call("status_unbookmark", loaves[0].id)
    await florist("status_delete", tulips.id)
    # Then only the other one is left
    assert unmarked.bookmarked is False
    assert [s.id for s in await call("bookmarks")] == [loaves[1].id]

    # And bad input: an unknown id 404, another business's followers-only post 404, a
    # token without the bookmarks scopes 403
    with pytest.raises(MastodonNotFoundError):
        await call("status_bookmark", "123456789")
    hidden = await florist("status_post", "Staff only", visibility="private")
    with pytest.raises(MastodonNotFoundError):
        await call("status_bookmark", hidden.id)
    narrow = await calls_as(
        live, await token_for(live.client, owner, scopes="read:statuses write:statuses")
    )
    for method, args in (("status_bookmark", (loaves[1].id,)), ("bookmarks", ())):
        with pytest.raises(MastodonAPIError) as refused:
            await narrow(method, *args)
        assert refused.value.args[1] == 403
    anonymous = await live.client.post(f"/api/v1/statuses/{loaves[1].id}/bookmark")
    assert anonymous.status_code == 401 and "error" in anonymous.json()
    bad = await live.client.get("/api/v1/bookmarks?max_id=x", headers=bearer(token))
    assert bad.status_code == 400 and "error" in bad.json()
