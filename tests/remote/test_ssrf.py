"""The SSRF guard: URLs, resolved addresses, redirect hops and the connect-time pin."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedi_town.errors import RemoteError
from fedi_town.remote.errors import ForbiddenAddress
from fedi_town.remote.http import RemoteClient
from fedi_town.remote.ssrf import (
    GuardedNetworkBackend,
    Resolver,
    check_redirect,
    check_url,
    check_url_cached,
    resolve_and_check,
    split_origin,
)
from tests.remote.conftest import FakeSigner, Peer, inbox_peer

NON_PUBLIC_URLS = [
    "https://127.0.0.1/",
    "https://127.8.9.10:8443/x",
    "https://10.1.2.3/",
    "https://172.16.0.1/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata
    "https://100.64.0.1/",  # shared address space (carrier-grade NAT)
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://[::1]/",
    "https://[::]/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://[fd12:3456::1]/",
    "https://[ff02::1]/",
    "https://[fec0::1]/",
    "https://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "https://[::ffff:169.254.169.254]/",
    "https://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "https://[2002:a00:1::1]/",  # 6to4 of 10.0.0.1
]


def _resolver(table: dict[str, list[str]]) -> Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        return table[host]

    return resolve


# -- check_url ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", NON_PUBLIC_URLS)
def test_check_url_refuses_a_non_public_address(url: str) -> None:
    with pytest.raises(ForbiddenAddress):
        check_url(url, allow_private=False)


@pytest.mark.parametrize("url", NON_PUBLIC_URLS)
def test_check_url_allows_a_non_public_address_when_private_is_allowed(url: str) -> None:
    check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/users/alice",
        "https://8.8.8.8/",
        "https://[2606:4700:4700::1111]/",
        "https://bücher.example/",
        "https://example.com:8443/inbox?x=1",
    ],
)
def test_check_url_passes_a_public_url(url: str) -> None:
    check_url(url, allow_private=False)


def test_check_url_refuses_plain_http_to_a_public_host() -> None:
    with pytest.raises(ForbiddenAddress, match=r"example\.com"):
        check_url("http://example.com/actor", allow_private=False)


def test_check_url_allows_plain_http_when_private_is_allowed() -> None:
    check_url("http://example.com/actor", allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file",
        "file:///etc/passwd",
        "gopher://example.com/",
        "/relative/path",
        "https://user:secret@example.com/",
        "https://a.b%5C@example.com/",
        "https:///no-host",
        "https://exa mple.com/",
    ],
)
@pytest.mark.parametrize("allow_private", [False, True])
def test_check_url_refuses_other_schemes_userinfo_and_malformed_urls(
    url: str, allow_private: bool
) -> None:
    with pytest.raises(ForbiddenAddress):
        check_url(url, allow_private=allow_private)


CACHED_VERDICT_URLS = [
    *NON_PUBLIC_URLS,
    "https://example.com/users/alice/inbox",
    "https://example.com/users/bob/inbox",
    "https://example.com:8443/inbox?x=1",
    "https://example.com?x=1",
    "https://example.com#frag",
    "https://example.com",
    "https://EXAMPLE.com/inbox",
    "https://bücher.example/inbox",
    "http://example.com/inbox",
    "HTTPS://example.com/inbox",
    "https://user:secret@example.com/inbox",
    "https://exa mple.com/inbox",
    "https://example.com/in\x00box",
    "https://example.com/in\nbox",
    "https://example.com/in\x7fbox",
    "https://example.com:99999/inbox",
    "https://example.com/" + "a" * 70_000,
    "ftp://example.com/inbox",
    "/relative/inbox",
    "https:///no-host",
]


def _verdict(check: Callable[..., None], url: str, allow_private: bool) -> str:
    try:
        check(url, allow_private=allow_private)
    except ForbiddenAddress as exc:
        return f"refused: {exc}"
    return "passed"


@pytest.mark.parametrize("url", CACHED_VERDICT_URLS)
@pytest.mark.parametrize("allow_private", [False, True])
def test_the_cached_check_gives_check_urls_verdict_asked_twice(
    url: str, allow_private: bool
) -> None:
    # Given check_url's verdict on a URL
    expected = _verdict(check_url, url, allow_private)
    # When the per-origin cached check judges it, then judges it again (from its cache)
    first = _verdict(check_url_cached, url, allow_private)
    again = _verdict(check_url_cached, url, allow_private)
    # Then both say the same as check_url
    assert first == again == expected


def test_the_cached_check_judges_each_url_after_a_passed_origin() -> None:
    # Given an origin that passed
    check_url_cached("https://example.com/users/alice/inbox", allow_private=False)
    # When another URL on it carries a control character
    # Then it is still refused, as check_url refuses it
    with pytest.raises(ForbiddenAddress):
        check_url_cached("https://example.com/users/\r\nbob/inbox", allow_private=False)


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("https://example.com/inbox", ("https://example.com", "/inbox")),
        ("http://a.example:8080?x=1", ("http://a.example:8080", "?x=1")),
        ("https://example.com", ("https://example.com", "")),
        ("https://u@example.com#f", ("https://u@example.com", "#f")),
        ("ftp://example.com/", None),
        ("/inbox", None),
    ],
)
def test_split_origin_cuts_where_the_authority_ends(
    url: str, parts: tuple[str, str] | None
) -> None:
    assert split_origin(url) == parts


def test_forbidden_address_is_a_remote_error_and_keeps_userinfo_out_of_the_message() -> None:
    with pytest.raises(RemoteError) as caught:
        check_url("https://user:secret@example.com/", allow_private=False)
    assert "secret" not in str(caught.value)
    assert "example.com" in str(caught.value)


# -- resolve_and_check -------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_name_resolving_to_loopback_is_refused_naming_the_host_only() -> None:
    with pytest.raises(ForbiddenAddress) as caught:
        await resolve_and_check("localhost", 443, allow_private=False)
    assert "localhost" in str(caught.value)
    assert "127.0.0.1" not in str(caught.value)


@pytest.mark.anyio
async def test_a_name_resolving_to_loopback_is_allowed_when_private_is_allowed() -> None:
    addresses = await resolve_and_check("localhost", 443, allow_private=True)
    assert "127.0.0.1" in addresses or "::1" in addresses


@pytest.mark.anyio
@pytest.mark.parametrize("host", ["2130706433", "127.1", "0x7f.1"])
async def test_odd_numeric_spellings_of_loopback_are_refused(host: str) -> None:
    # check_url sees a hostname; getaddrinfo turns it into 127.0.0.1, which is refused.
    check_url(f"https://{host}/", allow_private=False)
    with pytest.raises(ForbiddenAddress):
        await resolve_and_check(host, 443, allow_private=False)


@pytest.mark.anyio
async def test_a_name_is_refused_if_any_of_its_addresses_is_not_public() -> None:
    resolver = _resolver({"mixed.test": ["93.184.215.14", "10.0.0.5"]})
    with pytest.raises(ForbiddenAddress, match=r"mixed\.test"):
        await resolve_and_check("mixed.test", 443, allow_private=False, resolver=resolver)


@pytest.mark.anyio
async def test_a_name_with_only_public_addresses_passes() -> None:
    resolver = _resolver(
        {"public.test": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]}
    )
    addresses = await resolve_and_check("public.test", 443, allow_private=False, resolver=resolver)
    assert addresses == ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]


@pytest.mark.anyio
async def test_a_name_that_does_not_resolve_raises_os_error() -> None:
    with pytest.raises(OSError):
        await resolve_and_check("does-not-exist.invalid", 443, allow_private=False)


# -- redirect hops -----------------------------------------------------------------------


def test_a_relative_redirect_resolves_against_the_current_url() -> None:
    target = check_redirect("https://good.example/a/b", "../c?d=1", allow_private=False)
    assert target == "https://good.example/c?d=1"


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:5432/",
        "https://[::1]/",
        "https://[::ffff:10.0.0.1]/",
        "//10.0.0.1/x",
        "http://good.example/downgraded",
        "file:///etc/passwd",
        "https://user:pw@good.example/",
    ],
)
def test_a_redirect_from_an_allowed_server_to_a_forbidden_target_is_refused(
    location: str,
) -> None:
    with pytest.raises(ForbiddenAddress):
        check_redirect("https://good.example/actor", location, allow_private=False)


def test_a_redirect_to_another_public_host_passes() -> None:
    target = check_redirect(
        "https://good.example/a", "https://other.example/b", allow_private=False
    )
    assert target == "https://other.example/b"


# -- the connect-time pin ----------------------------------------------------------------


@pytest.mark.anyio
async def test_the_network_backend_refuses_to_connect_to_loopback(
    serve: Callable[..., Peer],
) -> None:
    peer = serve(Route("/", lambda request: JSONResponse({})))
    backend = GuardedNetworkBackend(allow_private=False)
    with pytest.raises(ForbiddenAddress):
        await backend.connect_tcp("localhost", peer.port)


@pytest.mark.anyio
async def test_a_client_refuses_a_name_resolving_to_loopback_before_connecting(
    serve: Callable[..., Peer],
) -> None:
    # Given a peer listening on loopback, reachable as https://localhost:<port>/
    peer = serve(Route("/", lambda request: JSONResponse({"id": "x"})))
    # When a client that refuses private addresses fetches it
    async with RemoteClient(allow_private=False, user_agent="test") as client:
        with pytest.raises(ForbiddenAddress):
            await client.fetch_json(f"https://localhost:{peer.port}/")
    # Then no request reached the peer
    assert peer.requests == []


@pytest.mark.anyio
async def test_a_client_connects_to_the_address_it_checked(serve: Callable[..., Peer]) -> None:
    # Given a name that only our resolver knows, pointing at a loopback peer
    async def found(request: Request) -> JSONResponse:
        return JSONResponse({"host": request.headers["host"]})

    peer = serve(Route("/", found))
    resolver = _resolver({"pinned.test": ["127.0.0.1"]})
    # When the client fetches it
    async with RemoteClient(
        allow_private=True,
        user_agent="test",
        resolver=resolver,
    ) as client:
        document = await client.fetch_json(f"http://pinned.test:{peer.port}/")
    # Then the connection went to the resolved address, with the name in the Host header
    assert document == {"host": f"pinned.test:{peer.port}"}


# -- deliveries on aiohttp: the same guarantees ------------------------------------------


@pytest.mark.anyio
async def test_a_delivery_to_a_name_resolving_to_loopback_is_refused_before_connecting(
    serve: Callable[..., Peer], signer: FakeSigner
) -> None:
    # Given an inbox on loopback, named by a name that resolves there
    peer = inbox_peer(serve)
    # When a client that refuses private addresses delivers to it
    async with RemoteClient(allow_private=False, user_agent="test") as client:
        result = await client.post_activity(
            f"https://localhost:{peer.port}/inbox", b"{}", signer=signer
        )
    # Then it is refused for good and nothing reached the peer
    assert result.error == "forbidden" and result.status is None
    assert peer.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize("addresses", [["127.0.0.1"], ["93.184.215.14", "127.0.0.1"]])
async def test_a_delivery_to_a_name_that_now_resolves_to_loopback_is_refused(
    serve: Callable[..., Peer], signer: FakeSigner, addresses: list[str]
) -> None:
    # Given a public-looking name whose lookup (at connect time) gives a loopback address
    peer = inbox_peer(serve)
    resolver = _resolver({"rebound.test": addresses})
    async with RemoteClient(allow_private=False, user_agent="test", resolver=resolver) as client:
        result = await client.post_activity(
            f"https://rebound.test:{peer.port}/inbox", b"{}", signer=signer
        )
    assert result.error == "forbidden"
    assert peer.requests == []


@pytest.mark.anyio
async def test_a_delivery_connects_to_the_address_it_checked(
    serve: Callable[..., Peer], signer: FakeSigner
) -> None:
    # Given a name that only our resolver knows, pointing at a loopback peer
    peer = inbox_peer(serve)
    resolver = _resolver({"pinned.test": ["127.0.0.1"]})
    # When a delivery goes there
    async with RemoteClient(allow_private=True, user_agent="test", resolver=resolver) as client:
        result = await client.post_activity(
            f"http://pinned.test:{peer.port}/inbox", b"{}", signer=signer
        )
    # Then it arrived at the resolved address, with the name in the Host header
    assert result.status == 202
    [seen] = peer.requests
    assert seen.headers["host"] == f"pinned.test:{peer.port}"
