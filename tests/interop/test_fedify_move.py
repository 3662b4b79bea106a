"""A business moves from one fedi-town to another and its Fedify follower moves with it, as
a Mastodon follower does: the peer checks the new actor's alsoKnownAs, follows the new
actor and undoes its follow of the old one. Nobody is locked in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fedi_town.api.auth import hash_token
from fedi_town.api.businesses import new_owner_token
from fedi_town.protocol.keys import generate_rsa_keypair
from fedi_town.store import business_archive
from tests.interop.harness import FedifyClient
from tests.interop.owner import Owner, fedify_received, followed_by_fedify
from tests.live import LiveInstance, live_instance, wait_until

pytestmark = pytest.mark.anyio


async def import_into(live: LiveInstance, archive: Path) -> Owner:
    """Import ``archive`` into ``live`` as ``fedi-town import-business`` does."""
    private_pem, public_pem = generate_rsa_keypair()
    token = new_owner_token()
    imported = await business_archive.import_business(
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
    return Owner(live, imported.username, token)


async def moves_handled(fedify: FedifyClient) -> list[dict[str, Any]]:
    """The Moves the peer finished with (followed, or a reason not to)."""
    return [m for m in await fedify.moves() if m["followed"] or m["reason"]]


async def move_to(old: Owner, new: Owner, *, alias: bool) -> Any:
    """Name ``old`` on ``new`` when ``alias``, then move ``old`` to ``new``: the answer."""
    if alias:
        await new.call("PUT", "/aliases", json={"also_known_as": [old.actor]})
    response = await old.live.client.post(
        old.base + "/move", json={"target": new.actor}, headers=old.headers
    )
    return response


async def test_a_fedify_follower_follows_the_business_to_its_new_server(
    live: Any, other_database_url: str, tmp_path: Path, fedify: FedifyClient
) -> None:
    async with live_instance(other_database_url, tmp_path / "b") as b:
        # Given a bakery on A that Fedify follows, exported and imported into B, where the
        # owner names the old account
        old = await Owner.create(live, "bakery")
        await followed_by_fedify(old, fedify)
        archive = tmp_path / "bakery.tar.gz"
        await business_archive.export_business(
            live.store, live.urls, live.services.media, "bakery", archive
        )
        new = await import_into(b, archive)
        assert await new.followers() == []

        # When the owner moves the bakery from A to B
        response = await move_to(old, new, alias=True)
        assert response.status_code == 200, response.text

        # Then Fedify gets the Move, signed by A, and verified it
        move = await fedify_received(fedify, "Move")
        assert move["verified"], move
        assert move["actor"] == old.actor
        assert move["json"]["target"] == new.actor
        # And, as Mastodon does, it followed the new actor (which named the old one)
        [handled] = await wait_until(lambda: moves_handled(fedify), timeout=15)
        assert handled["followed"], handled
        # And B got the Follow and counts Fedify as a follower: the follower moved by itself
        await new.wait_for_followers([fedify.actor_id])
        shown = await new.call("GET", "")
        assert shown["followers_count"] == 1
        accept = await fedify_received(fedify, "Accept", lambda j: j["actor"] == new.actor)
        assert accept["verified"], accept
        # And A lost it, by Fedify's Undo of the old follow
        await old.wait_for_followers([])
        assert new.actor in await fedify.following()
        assert old.actor not in await fedify.following()


async def test_fedify_stays_put_when_the_new_account_does_not_name_the_old_one(
    live: Any, other_database_url: str, tmp_path: Path, fedify: FedifyClient
) -> None:
    async with live_instance(other_database_url, tmp_path / "b") as b:
        # Given a bakery on A that Fedify follows, imported into B without naming A
        old = await Owner.create(live, "bakery")
        await followed_by_fedify(old, fedify)
        archive = tmp_path / "bakery.tar.gz"
        await business_archive.export_business(
            live.store, live.urls, live.services.media, "bakery", archive
        )
        new = await import_into(b, archive)

        # When the owner tries to move A to B
        response = await move_to(old, new, alias=False)

        # Then fedi-town refuses before sending anything, and Fedify still follows A
        assert response.status_code == 422
        assert "alsoKnownAs" in response.json()["detail"]
        assert await old.followers() == [fedify.actor_id]
        assert [a for a in await fedify.received() if a["type"] == "Move"] == []
