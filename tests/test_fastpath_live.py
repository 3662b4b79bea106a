"""The fast path over real HTTP: signed fetches still meet the fetch guard when kept.

A live fedi-town (uvicorn on loopback) and the signing test peer; nothing is patched. Each
test first gets the document kept (an unsigned or signed fetch), then checks that the kept
answer does not skip what the slow path would refuse.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fedi_town.protocol.httpsig import sign_request
from fedi_town.protocol.keys import generate_rsa_keypair, load_private_key
from fedi_town.read.cache import request_key, response_cache
from tests.live import live_instance

pytestmark = pytest.mark.anyio

AP = "application/activity+json"


def kept(live, path: str) -> bool:
    return request_key(path, b"", AP.encode()) in response_cache(live.services)._entries


@pytest.fixture
async def secure_live(database_url: str, tmp_path: Path):
    async with live_instance(database_url, tmp_path, authorized_fetch=True) as instance:
        yield instance


async def test_a_signed_fetch_from_a_blocked_domain_is_refused_though_the_actor_is_kept(live, peer):
    # Given a business whose actor is kept, fetched unsigned and signed
    await live.create_business("bakery")
    url = live.urls.actor("bakery")
    unsigned = await peer.get(url, name=None)
    signed = await peer.get(url)
    assert unsigned.status_code == 200
    assert signed.status_code == 200, signed.text
    assert kept(live, "/users/bakery")
    # And a signed answer is marked private, an unsigned one public, from the cache too
    again = await peer.get(url)
    assert again.content == signed.content
    assert again.headers["cache-control"] == "private, max-age=0"
    assert (await peer.get(url, name=None)).headers["cache-control"] == "public, max-age=180"
    # When the admin blocks the peer's domain
    blocked = await live.client.post(
        "/api/v1/admin/domain_blocks", json={"domain": peer.host}, headers=live.admin_headers()
    )
    assert blocked.status_code == 201, blocked.text
    # Then its signed fetch is refused, though the answer is still kept
    refused = await peer.get(url)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert kept(live, "/users/bakery")


async def test_a_bad_signature_is_refused_though_the_actor_is_kept(live, peer):
    await live.create_business("bakery")
    url = live.urls.actor("bakery")
    assert (await peer.get(url, name=None)).status_code == 200
    assert kept(live, "/users/bakery")
    stray_key = load_private_key(generate_rsa_keypair()[0])
    headers = sign_request(
        "GET",
        url,
        {"Accept": AP},
        None,
        key_id=peer.actor().key_id,
        private_key=stray_key,
        now=datetime.now(UTC),
    )
    response = await peer.client.get(url, headers=headers)
    assert response.status_code == 401
    assert "InvalidSignature" in response.json()["detail"]


async def test_under_authorized_fetch_a_kept_document_still_needs_a_signature(secure_live, peer):
    # Given a business with a post, its actor and Note kept after signed fetches
    await secure_live.create_business("bakery")
    created = await secure_live.client.post(
        "/api/v1/businesses/bakery/posts",
        json={"content": "Rye today"},
        headers=secure_live.admin_headers(),
    )
    assert created.status_code == 201, created.text
    note = created.json()["uri"]
    actor = secure_live.urls.actor("bakery")
    for url in (actor, note):
        first = await peer.get(url)
        assert first.status_code == 200, first.text
        # When it is fetched again, signed and unsigned
        second = await peer.get(url)
        unsigned = await peer.get(url, name=None)
        # Then the signed fetch gets the kept bytes, the unsigned one 401
        assert second.content == first.content
        assert second.headers["cache-control"] == "private, max-age=0"
        assert unsigned.status_code == 401
    assert kept(secure_live, "/users/bakery")
    # And the instance actor is still served unsigned
    instance = await peer.get(secure_live.urls.instance_actor(), name=None)
    assert instance.status_code == 200


async def test_a_head_request_over_http_gets_the_headers_only(live, peer):
    await live.create_business("bakery")
    url = live.urls.actor("bakery")
    body = (await peer.get(url, name=None)).content
    head = await peer.client.head(url, headers={"Accept": AP})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(body))


async def test_a_follow_from_the_inbox_shows_in_the_kept_followers_count_at_once(live, peer):
    # Given a business whose followers collection is kept with no follower
    await live.create_business("bakery")
    followers = live.urls.followers("bakery")
    assert (await peer.get(followers, name=None)).json()["totalItems"] == 0
    assert kept(live, "/users/bakery/followers")
    # When alice follows it through the inbox and the worker handles the Follow
    response = await peer.post(live.urls.inbox("bakery"), peer.follow(live.urls.actor("bakery")))
    assert response.status_code == 202
    await peer.wait_for(lambda r: r.type == "Accept")
    # Then the followers collection counts her
    assert (await peer.get(followers, name=None)).json()["totalItems"] == 1


async def test_under_authorized_fetch_unguarded_documents_are_kept_as_served(secure_live, peer):
    await secure_live.create_business("bakery")
    resource = f"acct:bakery@{secure_live.urls.domain}"
    webfinger = f"{secure_live.base_url}/.well-known/webfinger?resource={resource}"
    instance = secure_live.urls.instance_actor()
    for url in (webfinger, instance):
        first = await peer.client.get(url, headers={"Accept": AP})
        second = await peer.client.get(url, headers={"Accept": AP})
        assert first.status_code == second.status_code == 200
        assert second.content == first.content
        assert second.headers["cache-control"] == first.headers["cache-control"]
    assert first.headers["cache-control"] == "private, max-age=0"
    assert request_key("/actor", b"", AP.encode()) in response_cache(secure_live.services)._entries
