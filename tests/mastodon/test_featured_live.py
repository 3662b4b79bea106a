"""Featured tags and featured accounts driven by Mastodon.py on a live instance: the
library's own calls (``featured_tag_create``, ``featured_tags``,
``featured_tag_suggestions``, ``account_featured_tags``, ``featured_tag_delete``,
``account_pin``/``account_endorse``, ``endorsements``, ``account_unpin``), against an
account of a real peer server the business follows. Both backends."""

from __future__ import annotations

from typing import Any

import pytest
from mastodon import MastodonAPIError, return_types

from tests.mastodon.flow import SignedIn, entity_gaps, follow_accepted

pytestmark = pytest.mark.anyio


async def test_mastodon_py_features_tags_and_accounts(
    live: Any, peer: Any, bakery_app: SignedIn
) -> None:
    # Given an app signed in as the bakery, which posted with #bread and #cake
    call = bakery_app.call
    for text in ("Rye #bread", "Lemon #cake"):
        await call("status_post", text)
    me = await call("account_verify_credentials")

    # When it features #bread
    tag = await call("featured_tag_create", "bread")
    featured = await call("featured_tags")
    public = await call("account_featured_tags", me.id)
    suggested = await call("featured_tag_suggestions")
    # Then the tag is featured (with its one post), and #cake is suggested
    assert tag.name == "bread" and tag.statuses_count == "1"
    assert entity_gaps(return_types.FeaturedTag, tag) == []
    assert [t.name for t in featured] == ["bread"] and [t.name for t in public] == ["bread"]
    assert [t.name for t in suggested] == ["cake"]
    # When it unfeatures it, none is left
    await call("featured_tag_delete", tag.id)
    assert await call("featured_tags") == []

    # Given alice elsewhere, found by search, whom the bakery follows
    found = await call("search_v2", peer.handle("alice"), resolve=True)
    [alice] = found.accounts
    await follow_accepted(live, int(me.id), int(alice.id), "alice")
    # When the app features her on the profile (Mastodon 4.4's endorse, and the older pin)
    endorsed = await call("account_endorse", alice.id)
    again = await call("account_pin", alice.id)
    listed = await call("endorsements")
    # Then she is endorsed and listed
    assert endorsed.endorsed is True and again.endorsed is True
    assert [a.acct for a in listed] == [alice.acct]
    # When unpinned, she is not
    unpinned = await call("account_unpin", alice.id)
    assert unpinned.endorsed is False and await call("endorsements") == []
    # And an account the bakery does not follow cannot be featured
    bob = await call("search_v2", peer.handle("bob"), resolve=True)
    with pytest.raises(MastodonAPIError):
        await call("account_pin", bob.accounts[0].id)
