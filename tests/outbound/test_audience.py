"""outbound.audience: who a post is for. Each visibility addressed as Mastodon addresses it;
mentions and reply authors here resolved without HTTP, those elsewhere that cannot be reached
left as text; each inbox once, a direct post to the mentioned only."""

from __future__ import annotations

import pytest

from fedi_town.errors import RemoteError
from fedi_town.outbound.audience import inboxes_for, resolve_mention, resolve_reply
from fedi_town.text.compose import MentionRef
from tests.conftest import create_business
from tests.outbound.conftest import (
    activities,
    deliveries,
    write_post,
)

pytestmark = pytest.mark.anyio

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
BASE = "https://town.example"
FOLLOWERS = f"{BASE}/users/bakery/followers"


@pytest.mark.parametrize(
    ("visibility", "to", "cc"),
    [
        ("public", [PUBLIC], [FOLLOWERS, f"{BASE}/users/cafe"]),
        ("unlisted", [FOLLOWERS], [PUBLIC, f"{BASE}/users/cafe"]),
        ("followers", [FOLLOWERS], [f"{BASE}/users/cafe"]),
        ("direct", [f"{BASE}/users/cafe"], []),
    ],
)
async def test_each_visibility_is_addressed_as_mastodon_addresses_it(
    app_client, bakery, visibility, to, cc
):
    # Given another business here to mention (resolved without any HTTP)
    await create_business(app_client, "cafe")
    # When a post mentioning it is written with each visibility
    response = await write_post(
        app_client, bakery, content="Coffee with @cafe today", visibility=visibility
    )
    assert response.status_code == 201, response.text
    [create] = await activities(app_client.services.store)
    # Then to/cc are Mastodon's, the Mention tag names the actor id, the link its profile
    assert (create["to"], create["cc"]) == (to, cc)
    assert (create["object"]["to"], create["object"]["cc"]) == (to, cc)
    assert create["object"]["tag"] == [
        {"type": "Mention", "href": f"{BASE}/users/cafe", "name": "@cafe@town.example"}
    ]
    assert (
        '<span class="h-card"><a href="https://town.example/@cafe" class="u-url mention">'
        "@<span>cafe</span></a></span>"
    ) in create["object"]["content"]
    # And a direct post goes only to the mentioned, the others to followers too
    inboxes = [r["inbox"] for r in await deliveries(app_client.services.store)]
    if visibility == "direct":
        assert inboxes == [f"{BASE}/users/cafe/inbox"]
    else:
        assert f"{BASE}/users/cafe/inbox" in inboxes and "https://m.example/inbox" in inboxes


async def test_a_mention_of_a_business_here_is_resolved_from_the_database(app_client, bakery):
    # Given another business here
    await create_business(app_client, "cafe")
    services = app_client.services
    # When it is mentioned as @cafe and as @CAFE@TOWN.EXAMPLE
    bare = await resolve_mention(services, MentionRef("cafe", None))
    full = await resolve_mention(services, MentionRef("cafe", "TOWN.EXAMPLE"))
    # Then both are its actor, profile and personal inbox, with no HTTP
    assert bare == full
    assert bare is not None
    assert (bare.mention.href, bare.mention.url) == (f"{BASE}/users/cafe", f"{BASE}/@cafe")
    assert (bare.mention.name, bare.inbox) == ("@cafe@town.example", f"{BASE}/users/cafe/inbox")


async def test_a_mention_of_no_business_here_is_left_as_text(app_client, bakery):
    # Given no business called nobody
    # When @nobody is mentioned
    found = await resolve_mention(app_client.services, MentionRef("nobody", None))
    # Then there is no recipient (the text stays as typed)
    assert found is None


async def test_a_mention_on_a_server_that_cannot_be_reached_is_left_as_text(app_client, bakery):
    # Given a host that does not exist
    # When someone there is mentioned
    found = await resolve_mention(app_client.services, MentionRef("ann", "nowhere.invalid"))
    # Then there is no recipient, and no error for the owner
    assert found is None


async def test_a_reply_to_our_own_post_goes_to_its_business_without_http(app_client, bakery):
    # Given a post of the bakery
    post = (await write_post(app_client, bakery, content="Rye today")).json()
    # When a reply to it is resolved
    target = await resolve_reply(app_client.services, post["uri"])
    # Then its author is the bakery, reached at its personal inbox
    assert target.uri == post["uri"]
    assert target.author.mention.href == f"{BASE}/users/bakery"
    assert target.author.inbox == f"{BASE}/users/bakery/inbox"


async def test_a_reply_to_an_address_here_that_is_no_post_is_refused(app_client, bakery):
    # Given an address on this server that is not a post
    # When a reply to it is resolved
    # Then it is refused without fetching anything
    with pytest.raises(RemoteError, match="not a post here"):
        await resolve_reply(app_client.services, f"{BASE}/users/bakery/statuses/1")


@pytest.mark.parametrize(
    ("visibility", "expected"),
    [
        ("public", ["https://m.example/inbox", "https://solo.example/u/cy/inbox", "x/inbox"]),
        ("followers", ["https://m.example/inbox", "https://solo.example/u/cy/inbox", "x/inbox"]),
        ("direct", ["https://m.example/inbox", "x/inbox"]),
    ],
)
async def test_a_post_goes_to_each_follower_server_once_unless_direct(
    app_client, bakery, visibility, expected
):
    # Given followers on two servers, and two mentioned inboxes (one a follower's server's)
    extra = ["https://m.example/inbox", "x/inbox"]
    # When the inboxes of a post are gathered
    found = await inboxes_for(app_client.services, int(bakery["id"]), visibility, extra)
    # Then each inbox is there once; a direct post goes to the mentioned only
    assert sorted(found) == expected
