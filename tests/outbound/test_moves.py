"""Moving a business between two real fedi-town instances on loopback (one on each
backend): export from A, import into B, B names A in alsoKnownAs, A moves; a follower on a
third server gets the Move signed by A."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fedi_town.api.auth import hash_token
from fedi_town.api.businesses import new_owner_token
from fedi_town.protocol.keys import generate_rsa_keypair
from fedi_town.store import business_archive
from tests.live import LiveInstance, live_instance
from tests.peer import TestPeer

pytestmark = pytest.mark.anyio

AS2 = {"Accept": "application/activity+json"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def import_into(live: LiveInstance, archive: Path) -> str:
    """Import ``archive`` into ``live`` as the CLI does; the new owner token."""
    private_pem, public_pem = generate_rsa_keypair()
    token = new_owner_token()
    await business_archive.import_business(
        live.store,
        live.urls,
        live.services.media,
        archive,
        business_archive.NewIdentity(
            username=None,
            sealed_private_key=live.services.sealed_keys.seal(private_pem),
            public_key_pem=public_pem,
            owner_token_hash=hash_token(token),
        ),
        now=live.services.now_ms(),
    )
    return token


async def followed_by_alice(a: LiveInstance, peer: TestPeer) -> None:
    follow = peer.follow(a.urls.actor("bakery"))
    assert (await peer.post(a.urls.inbox("bakery"), follow)).status_code == 202
    await peer.wait_for(lambda r: r.type == "Accept")


async def test_a_business_moves_from_one_fedi_town_to_another_and_its_followers_hear_of_it(
    database_url, other_database_url, tmp_path
):
    async with (
        live_instance(database_url, tmp_path / "a") as a,
        live_instance(other_database_url, tmp_path / "b") as b,
        TestPeer.running("alice") as peer,
    ):
        # Given a bakery on A followed by alice on a third server, with a post
        shop: dict[str, Any] = await a.create_business("bakery", display_name="Corner Bakery")
        await followed_by_alice(a, peer)
        posted = await a.client.post(
            "/api/v1/businesses/bakery/posts",
            json={"content": "Fresh rye today"},
            headers=bearer(shop["owner_token"]),
        )
        assert posted.status_code == 201
        old_actor = a.urls.actor("bakery")

        # When it is exported from A and imported into B
        archive = tmp_path / "bakery.tar.gz"
        await business_archive.export_business(a.store, a.urls, a.services.media, "bakery", archive)
        token = await import_into(b, archive)
        new_actor = b.urls.actor("bakery")
        # And B's owner names the old account, by handle (resolved through WebFinger)
        named = await b.client.put(
            "/api/v1/businesses/bakery/aliases",
            json={"also_known_as": [a.urls.handle("bakery")]},
            headers=bearer(token),
        )
        assert named.status_code == 200, named.text
        assert named.json() == {"also_known_as": [old_actor]}
        # And A's owner moves the bakery to B
        moved = await a.client.post(
            "/api/v1/businesses/bakery/move",
            json={"target": new_actor},
            headers=bearer(shop["owner_token"]),
        )

        # Then the move is made
        assert moved.status_code == 200, moved.text
        assert moved.json()["moved_to"] == new_actor
        # And alice's server gets Move{old -> new}, signed with A's key and verified
        [move] = await peer.wait_for(lambda r: r.type == "Move")
        assert move.verified, move.error
        assert move.json["actor"] == old_actor == move.json["object"]
        assert move.json["target"] == new_actor
        # And B serves the new actor naming A, with the imported post
        document = (await b.client.get(new_actor, headers=AS2)).json()
        assert document["alsoKnownAs"] == [old_actor]
        posts = await b.client.get("/api/v1/businesses/bakery/posts", headers=bearer(token))
        assert [p["content"] for p in posts.json()["items"]] == ["Fresh rye today"]
        # And A serves movedTo and says so on its page
        old = (await a.client.get(old_actor, headers=AS2)).json()
        assert old["movedTo"] == new_actor
        page = await a.client.get(a.urls.profile_page("bakery"))
        assert "has moved" in page.text and new_actor in page.text
