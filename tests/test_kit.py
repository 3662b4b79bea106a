"""The federation test kit itself: a live instance starts, test peers sign and verify."""

from __future__ import annotations

import pytest

from tests.peer import Status, TestPeer

pytestmark = pytest.mark.anyio


async def test_a_live_instance_serves_on_its_own_port(live):
    response = await live.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert live.base_url.startswith("http://127.0.0.1:")


async def test_one_peer_verifies_another_peers_signed_post():
    async with TestPeer.running("alice") as sender, TestPeer.running("carol") as receiver:
        # Given two peers on different ports
        activity = sender.follow(receiver.actor("carol").uri)
        # When alice posts a signed Follow to carol's inbox
        response = await sender.post(f"{receiver.actor('carol').uri}/inbox", activity)
        # Then carol's server verified it against alice's published key
        assert response.status_code == 202
        [got] = receiver.received
        assert got.verified, got.error
        assert got.json["type"] == "Follow"


async def test_a_tampered_body_fails_the_peers_check_and_behaviours_apply_in_order():
    async with TestPeer.running("alice") as sender, TestPeer.running("carol") as receiver:
        receiver.behave("carol", [Status(500), Status(202)])
        inbox = f"{receiver.actor('carol').uri}/inbox"

        def tamper(headers, body):
            return headers, body.replace(b"Follow", b"Folloq")

        first = await sender.post(inbox, sender.follow("x"), tamper=tamper)
        second = await sender.post(inbox, sender.follow("x"))
        assert (first.status_code, second.status_code) == (500, 202)
        assert receiver.received[0].error == "DigestMismatch"
        assert receiver.received[1].verified
