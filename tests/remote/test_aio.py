"""The aiohttp delivery session: its socket refuses non-public addresses, few idle connections."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from fedi_town.remote.aio import IdleCappedConnector, guarded_socket, open_session
from fedi_town.remote.errors import ForbiddenAddress
from fedi_town.remote.http import RemoteClient
from tests.remote.conftest import FakeSigner, Peer, inbox_peer


@pytest.mark.anyio
async def test_the_delivery_session_refuses_an_ip_literal_the_resolver_never_sees(
    serve: Callable[..., Peer],
) -> None:
    # Given the bare delivery session (aiohttp does not resolve IP literals)
    peer = inbox_peer(serve)
    session = open_session(
        allow_private=False, user_agent="test", connect_timeout=2, read_timeout=2,
        max_connections=4, max_keepalive_connections=4, keepalive_expiry=5,
    )  # fmt: skip
    # When it is asked to connect to a loopback address directly
    try:
        with pytest.raises(ForbiddenAddress):
            await session.post(f"http://127.0.0.1:{peer.port}/inbox", data=b"{}")
    finally:
        await session.close()
    # Then the socket layer refused it: nothing reached the peer
    assert peer.requests == []


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.7", "169.254.169.254", "100.64.0.1", "::1", "fe80::1%1",
     "::ffff:127.0.0.1", "64:ff9b::a00:1", "0.0.0.0"],
)  # fmt: skip
def test_the_delivery_socket_factory_refuses_non_public_addresses(address: str) -> None:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    make = guarded_socket(allow_private=False)
    with pytest.raises(ForbiddenAddress):
        make((family, socket.SOCK_STREAM, 6, "", (address, 443)))


def test_the_delivery_socket_factory_allows_a_public_address_and_private_when_allowed() -> None:
    info = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))
    guarded_socket(allow_private=False)(info).close()
    loopback = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 443))
    guarded_socket(allow_private=True)(loopback).close()


@pytest.mark.anyio
async def test_the_delivery_session_keeps_only_a_few_idle_connections(
    serve: Callable[..., Peer], signer: FakeSigner
) -> None:
    # Given five servers and a client that keeps at most two idle connections
    peers = [inbox_peer(serve) for _ in range(5)]
    async with RemoteClient(
        allow_private=True, user_agent="test", max_keepalive_connections=2
    ) as client:
        # When it delivers to each of them once
        for peer in peers:
            result = await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)
            assert result.status == 202
        # Then no more than two connections stay open, waiting for reuse
        session = client._session
        assert session is not None and isinstance(session.connector, IdleCappedConnector)
        assert 1 <= session.connector.idle_count() <= 2
