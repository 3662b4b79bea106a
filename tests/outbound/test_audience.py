"""outbound.audience: who a post is for. Each visibility addressed as Mastodon addresses it;
mentions and reply authors here resolved without HTTP; a mention that cannot be resolved is
left as text with the reason, found against real servers on loopback (an unknown account,
a server that refuses, one that does not answer) and blocks (nothing asked of a blocked
server); each inbox once, a direct post to the mentioned only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import FediTownError, RemoteError
from fedi_town.outbound.audience import (
    Recipient,
    Unresolved,
    inboxes_for,
    resolve_mention,
    resolve_mentions,
    resolve_reply,
    why_unresolved,
)
from fedi_town.remote.actors import BadActorDocument
from fedi_town.remote.errors import (
    BadContentType,
    FetchFailed,
    ForbiddenAddress,
    IdMismatch,
    RemoteGone,
    RemoteNotFound,
    RemoteUnreachable,
    TooManyRedirects,
)
from fedi_town.text.compose import MentionRef
from tests.conftest import admin_headers, create_business
from tests.live import bind_loopback, serve_app
from tests.outbound.conftest import (
    activities,
    deliveries,
    owner,
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


async def test_a_mention_of_no_business_here_is_left_as_text_saying_so(app_client, bakery):
    # Given no business called nobody
    # When @nobody is mentioned
    found = await resolve_mention(app_client.services, MentionRef("nobody", None))
    # Then there is no recipient (the text stays as typed), and the owner is told why
    assert found == Unresolved(
        "@nobody@town.example", "not_found", "no account by that name on town.example"
    )


async def test_a_mention_on_a_server_that_cannot_be_reached_is_left_as_text(app_client, bakery):
    # Given a host that does not exist
    # When someone there is mentioned
    found = await resolve_mention(app_client.services, MentionRef("ann", "nowhere.invalid"))
    # Then there is no recipient, and no error: only the reason
    assert found == Unresolved(
        "@ann@nowhere.invalid", "unreachable", "nowhere.invalid did not answer"
    )


URL = "https://m.example/.well-known/webfinger?resource=acct:ann@m.example"


@pytest.mark.parametrize(
    ("error", "code", "reason"),
    [
        (RemoteNotFound(URL, 404), "not_found", "no account by that name on m.example"),
        (RemoteGone(URL, 410), "gone", "that account was deleted from m.example"),
        (FetchFailed(URL, 403), "refused", "m.example refused to look up that name"),
        (FetchFailed(URL, 401), "refused", "m.example refused to look up that name"),
        (FetchFailed(URL, 429), "refused", "m.example is having trouble; try again later"),
        (FetchFailed(URL, 503), "refused", "m.example is having trouble; try again later"),
        (
            ForbiddenAddress("refusing m.example: it resolves to a non-public address"),
            "private",
            "m.example is a private address, which this instance does not contact",
        ),
        (RemoteUnreachable(URL, "timeout"), "unreachable", "m.example did not answer in time"),
        (RemoteUnreachable(URL, "connect"), "unreachable", "m.example did not answer"),
        (RemoteUnreachable(URL, "protocol"), "unreachable", "m.example did not answer"),
        (TooManyRedirects(URL, 3), "unusable", "m.example did not answer with a fediverse account"),
        (
            BadContentType(URL, "text/html"),
            "unusable",
            "m.example did not answer with a fediverse account",
        ),
        (IdMismatch(URL, "id"), "unusable", "m.example did not answer with a fediverse account"),
        (
            BadActorDocument("no self link"),
            "unusable",
            "m.example did not answer with a fediverse account",
        ),
    ],
)
def test_each_failure_to_look_a_mention_up_has_its_own_plain_reason(
    error: FediTownError, code: str, reason: str
):
    assert why_unresolved(error, "m.example") == (code, reason)


@pytest.mark.parametrize("host", ["127.0.0.1:9", "localhost", "10.0.0.7"])
async def test_a_mention_on_a_private_address_is_not_looked_up(app_client, bakery, host):
    # Given an instance that contacts only public addresses (the default)
    # When someone on a loopback or private address is mentioned
    found = await resolve_mention(app_client.services, MentionRef("ann", host))
    # Then it is left as text: that address is private
    assert isinstance(found, Unresolved)
    assert (found.handle, found.code) == (f"@ann@{host}", "private")
    assert found.reason == f"{host} is a private address, which this instance does not contact"


async def test_a_mention_whose_host_cannot_name_a_server_is_not_a_valid_handle(app_client, bakery):
    found = await resolve_mention(app_client.services, MentionRef("ann", "m.example:99999"))
    assert found == Unresolved("@ann@m.example:99999", "invalid", "not a valid handle")


async def test_an_unknown_account_on_a_real_server_is_no_account_by_that_name(live, peer):
    # Given a server that knows alice and bob (WebFinger answers 404 for anyone else)
    # When nobody there is mentioned
    found = await resolve_mention(live.services, MentionRef("nobody", peer.host))
    # Then it is left as text: no account by that name on that server
    assert found == Unresolved(
        f"@nobody@{peer.host}", "not_found", f"no account by that name on {peer.host}"
    )
    assert ("GET", "/.well-known/webfinger") in peer.requests


async def test_a_known_account_on_a_real_server_is_found(live, peer):
    found = await resolve_mention(live.services, MentionRef("alice", peer.host))
    assert isinstance(found, Recipient)
    assert found.mention.href == peer.actor("alice").uri


@asynccontextmanager
async def webfinger_answering(status: int) -> AsyncIterator[str]:
    """A real server on loopback whose WebFinger answers ``status``; yields its host."""

    async def webfinger(request: Request) -> Response:
        return Response(status_code=status)

    sock = bind_loopback()
    app = Starlette(routes=[Route("/.well-known/webfinger", webfinger)])
    async with serve_app(app, sock):
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (403, "{host} refused to look up that name"),
        (503, "{host} is having trouble; try again later"),
        (410, "that account was deleted from {host}"),
    ],
)
async def test_a_server_that_refuses_the_look_up_is_named_with_why(live, status, reason):
    # Given a server whose WebFinger refuses
    async with webfinger_answering(status) as host:
        # When someone there is mentioned
        found = await resolve_mention(live.services, MentionRef("ann", host))
    # Then it is left as text, saying what the server did
    assert isinstance(found, Unresolved)
    assert found.reason == reason.format(host=host)


async def test_a_closed_port_did_not_answer(live):
    # Given a port nobody listens on
    sock = bind_loopback()
    host = f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    # When someone there is mentioned
    found = await resolve_mention(live.services, MentionRef("ann", host))
    # Then it is left as text: the server did not answer
    assert found == Unresolved(f"@ann@{host}", "unreachable", f"{host} did not answer")


async def test_a_server_that_did_not_answer_is_asked_once_for_all_its_mentions(live):
    # Given a server that hangs up on every connection, counting them
    connections: list[None] = []

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(None)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    host = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        # When two people there are mentioned in one post
        found = await resolve_mentions(
            live.services, [MentionRef("ann", host), MentionRef("ben", host)]
        )
    finally:
        server.close()
        await server.wait_closed()
    # Then both are left as text for the same reason, and the server was asked once
    assert found.found == {}
    assert [(u.handle, u.code) for u in found.unresolved] == [
        (f"@ann@{host}", "unreachable"),
        (f"@ben@{host}", "unreachable"),
    ]
    assert len(connections) == 1


BlockSetter = Callable[[Any, dict[str, Any], str], Any]


async def block_for_instance(live: Any, business: dict[str, Any], domain: str) -> None:
    response = await live.client.post(
        "/api/v1/admin/domain_blocks", json={"domain": domain}, headers=admin_headers()
    )
    assert response.status_code == 201, response.text


async def block_for_business(live: Any, business: dict[str, Any], domain: str) -> None:
    response = await live.client.post(
        f"/api/v1/businesses/{business['username']}/blocks",
        json={"domain": domain},
        headers=owner(business),
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        (block_for_instance, "{domain} is blocked on this instance"),
        (block_for_business, "you blocked {domain}"),
    ],
)
async def test_a_mention_on_a_blocked_domain_is_not_looked_up(live, peer, block, reason):
    # Given the peer's server is blocked, by the instance or by the business
    business = await live.create_business("bakery")
    await block(live, business, peer.host)
    # When alice there is mentioned
    found = await resolve_mention(
        live.services, MentionRef("alice", peer.host), int(business["id"])
    )
    # Then she is left as text, the block named, and her server was not asked anything
    assert found == Unresolved(f"@alice@{peer.host}", "blocked", reason.format(domain=peer.host))
    assert peer.requests == []


async def test_a_blocked_account_is_not_fetched_once_webfinger_names_it(live, peer):
    # Given the business blocked alice's account (not her server)
    business = await live.create_business("bakery")
    response = await live.client.post(
        "/api/v1/businesses/bakery/blocks",
        json={"actor": peer.actor("alice").uri},
        headers=owner(business),
    )
    assert response.status_code == 201, response.text
    # When she is mentioned, and bob on the same server
    found = await resolve_mentions(
        live.services,
        [MentionRef("alice", peer.host), MentionRef("bob", peer.host)],
        int(business["id"]),
    )
    # Then alice is left as text (her actor never fetched); bob is found
    assert found.unresolved == [
        Unresolved(f"@alice@{peer.host}", "blocked", "you blocked that account")
    ]
    assert list(found.found) == [f"bob@{peer.host}"]
    assert ("GET", "/users/alice") not in peer.requests


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
