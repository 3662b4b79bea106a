"""RemoteClient against real uvicorn peers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from fedi_town.protocol import httpsig
from fedi_town.protocol.keys import generate_rsa_keypair, load_public_key
from fedi_town.remote.errors import (
    BadContentType,
    BadDocument,
    FetchFailed,
    ForbiddenAddress,
    IdMismatch,
    RemoteGone,
    RemoteNotFound,
    RemoteUnreachable,
    ResponseTooLarge,
    TooManyRedirects,
)
from fedi_town.remote.http import (
    ACTIVITY_ACCEPT,
    DeliveryResult,
    NeedsNetwork,
    RemoteClient,
    delivery_idle_connections,
    offline,
)
from fedi_town.remote.knock import SchemeMemory
from fedi_town.remote.signers import KeySigner
from tests.live import bind_loopback
from tests.remote.conftest import SIGNATURE_HEADER, FakeSigner, Peer

AP = "application/activity+json"
NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
Serve = Callable[..., Peer]


def make_client(**overrides: Any) -> RemoteClient:
    settings: dict[str, Any] = {
        "allow_private": True,
        "user_agent": "fedi-town/test (+https://town.test/)",
        "clock": lambda: NOW,
    }
    settings.update(overrides)
    return RemoteClient(**settings)


def as_document(document: Any, *, status: int = 200, content_type: str = AP) -> Response:
    return Response(
        json.dumps(document), status_code=status, headers={"content-type": content_type}
    )


def self_document(request: Request) -> Response:
    """An object whose id is the URL it is served at."""
    return as_document({"id": str(request.url), "type": "Note"})


def status_only(status: int, **headers: str) -> Callable[[Request], Response]:
    return lambda request: Response(status_code=status, headers=headers)


# -- fetch_object: the happy path ---------------------------------------------------------


@pytest.mark.anyio
async def test_fetch_object_returns_a_signed_fetch_of_the_document(
    serve: Serve, signer: FakeSigner
) -> None:
    peer = serve(Route("/notes/1", self_document))
    url = peer.url("/notes/1")

    async with make_client() as client:
        document = await client.fetch_object(url, signer=signer)

    assert document == {"id": url, "type": "Note"}
    [seen] = peer.requests
    assert seen.headers["accept"] == ACTIVITY_ACCEPT
    assert seen.headers["user-agent"] == "fedi-town/test (+https://town.test/)"
    assert seen.headers[SIGNATURE_HEADER] == "cavage"
    assert seen.headers["date"] == "Wed, 01 Jan 2025 12:00:00 GMT"
    [call] = signer.calls
    assert (call.method, call.url, call.body) == ("GET", url, None)
    assert call.headers == {
        "Host": f"127.0.0.1:{peer.port}",
        "Date": "Wed, 01 Jan 2025 12:00:00 GMT",
        "Accept": ACTIVITY_ACCEPT,
    }
    assert seen.headers["host"] == call.headers["Host"]


@pytest.mark.anyio
async def test_fetch_object_without_a_signer_sends_no_signature(serve: Serve) -> None:
    peer = serve(Route("/notes/1", self_document))

    async with make_client() as client:
        await client.fetch_object(peer.url("/notes/1"), signer=None)

    assert peer.schemes_seen() == [None]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "content_type",
    [
        "application/activity+json",
        "application/activity+json; charset=utf-8",
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
        "Application/LD+JSON;profile=https://www.w3.org/ns/activitystreams",
    ],
)
async def test_fetch_object_accepts_activitystreams_media_types(
    serve: Serve, content_type: str
) -> None:
    peer = serve(Route("/o", lambda r: as_document({"id": str(r.url)}, content_type=content_type)))

    async with make_client() as client:
        document = await client.fetch_object(peer.url("/o"), signer=None)

    assert document == {"id": peer.url("/o")}


@pytest.mark.anyio
async def test_fetch_object_accepts_a_gzipped_body(serve: Serve) -> None:
    def gzipped(request: Request) -> Response:
        body = gzip.compress(json.dumps({"id": str(request.url)}).encode())
        return Response(body, headers={"content-type": AP, "content-encoding": "gzip"})

    peer = serve(Route("/o", gzipped))

    async with make_client() as client:
        document = await client.fetch_object(peer.url("/o"), signer=None)

    assert document == {"id": peer.url("/o")}
    assert peer.requests[0].headers["accept-encoding"] == "gzip"


# -- fetch_object: what it refuses --------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("served_id", ["{url}/", "{url}?x", "https://elsewhere.test/o", None, 7])
async def test_fetch_object_refuses_a_document_whose_id_is_not_the_url(
    serve: Serve, served_id: Any
) -> None:
    def document(request: Request) -> Response:
        claimed = (
            served_id.format(url=str(request.url)) if isinstance(served_id, str) else served_id
        )
        return as_document({"id": claimed})

    peer = serve(Route("/o", document))

    async with make_client() as client:
        with pytest.raises(IdMismatch):
            await client.fetch_object(peer.url("/o"), signer=None)


@pytest.mark.anyio
async def test_fetch_object_skips_the_id_check_when_asked(serve: Serve) -> None:
    peer = serve(Route("/o", lambda r: as_document({"id": "https://elsewhere.test/o"})))

    async with make_client() as client:
        document = await client.fetch_object(peer.url("/o"), signer=None, check_id=False)

    assert document["id"] == "https://elsewhere.test/o"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/html; charset=utf-8",
        "application/ld+json",
        'application/ld+json; profile="https://example.com/other"',
    ],
)
async def test_fetch_object_refuses_other_content_types(serve: Serve, content_type: str) -> None:
    peer = serve(Route("/o", lambda r: as_document({"id": str(r.url)}, content_type=content_type)))

    async with make_client() as client:
        with pytest.raises(BadContentType):
            await client.fetch_object(peer.url("/o"), signer=None)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b'"text"',
        b"{not json",
        b'{"a": NaN}',
        b"",
        b'{"name": "x\\ud800"}',  # a lone surrogate: no database could store the name
        b'{"name": "x\\u0000"}',
        '{"a": 1}'.encode("utf-16"),
        b"\xef\xbb\xbf{}",
        b'{"a":' * 100 + b"1" + b"}" * 100,
    ],
)
async def test_fetch_object_refuses_a_body_that_is_not_a_json_object(
    serve: Serve, body: bytes
) -> None:
    peer = serve(Route("/o", lambda r: Response(body, headers={"content-type": AP})))

    async with make_client() as client:
        with pytest.raises(BadDocument):
            await client.fetch_object(peer.url("/o"), signer=None)


@pytest.mark.anyio
async def test_fetch_object_refuses_an_unsupported_content_encoding(serve: Serve) -> None:
    peer = serve(
        Route(
            "/o", lambda r: Response(b"xx", headers={"content-type": AP, "content-encoding": "br"})
        )
    )

    async with make_client() as client:
        with pytest.raises(BadDocument, match="Content-Encoding"):
            await client.fetch_object(peer.url("/o"), signer=None)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "error"),
    [
        (404, RemoteNotFound),
        (410, RemoteGone),
        (500, FetchFailed),
        (401, FetchFailed),
        (204, FetchFailed),
    ],
)
async def test_fetch_object_accepts_only_200(
    serve: Serve, status: int, error: type[FetchFailed]
) -> None:
    peer = serve(Route("/o", status_only(status)))

    async with make_client() as client:
        with pytest.raises(error) as caught:
            await client.fetch_object(peer.url("/o"), signer=None)

    assert type(caught.value) is error
    assert caught.value.status == status


# -- size caps ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_fetch_object_stops_reading_a_body_past_the_cap(serve: Serve) -> None:
    # Given a peer that would stream 64 MiB without a Content-Length
    chunk, total = 64 * 1024, 64 * 1024 * 1024
    streamed = {"bytes": 0}

    async def endless(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            while streamed["bytes"] < total:
                streamed["bytes"] += chunk
                yield b" " * chunk
                await asyncio.sleep(0.001)

        return StreamingResponse(chunks(), headers={"content-type": AP})

    peer = serve(Route("/big", endless))

    # When a client with a 64 KiB cap fetches it
    async with make_client(max_body_bytes=64 * 1024) as client:
        with pytest.raises(ResponseTooLarge):
            await client.fetch_object(peer.url("/big"), signer=None)

    # Then the transfer was abandoned long before the end
    await asyncio.sleep(0.2)
    assert streamed["bytes"] < total // 4


@pytest.mark.anyio
async def test_fetch_object_refuses_a_declared_length_over_the_cap(serve: Serve) -> None:
    peer = serve(Route("/big", lambda r: Response(b" " * (2 * 1024 * 1024), media_type=AP)))

    async with make_client() as client:
        with pytest.raises(ResponseTooLarge, match="Content-Length"):
            await client.fetch_object(peer.url("/big"), signer=None)


@pytest.mark.anyio
async def test_fetch_object_counts_decoded_bytes_of_a_gzip_body(serve: Serve) -> None:
    # Given 5 MiB of spaces that gzip to a few KiB
    bomb = gzip.compress(b" " * (5 * 1024 * 1024))
    assert len(bomb) < 64 * 1024
    peer = serve(
        Route(
            "/bomb",
            lambda r: Response(bomb, headers={"content-type": AP, "content-encoding": "gzip"}),
        )
    )

    # When fetched with the default 1 MiB cap, Then it is refused
    async with make_client() as client:
        with pytest.raises(ResponseTooLarge, match="decoded"):
            await client.fetch_object(peer.url("/bomb"), signer=None)


# -- redirects ------------------------------------------------------------------------------


def redirect_chain(request: Request) -> Response:
    """/r/{n} redirects to /r/{n-1}; /r/0 serves a document claiming to be /r/3."""
    n = int(request.path_params["n"])
    if n > 0:
        return RedirectResponse(f"/r/{n - 1}", status_code=302)
    return as_document({"id": f"{request.base_url}r/3"})


@pytest.mark.anyio
async def test_fetch_object_follows_up_to_three_redirects_signing_every_hop(
    serve: Serve, signer: FakeSigner
) -> None:
    peer = serve(Route("/r/{n}", redirect_chain))

    async with make_client() as client:
        document = await client.fetch_object(peer.url("/r/3"), signer=signer)

    assert document == {"id": peer.url("/r/3")}
    assert [seen.path for seen in peer.requests] == ["/r/3", "/r/2", "/r/1", "/r/0"]
    assert [call.url for call in signer.calls] == [peer.url(f"/r/{n}") for n in (3, 2, 1, 0)]
    assert peer.schemes_seen() == ["cavage"] * 4


@pytest.mark.anyio
async def test_fetch_object_refuses_a_fourth_redirect(serve: Serve) -> None:
    peer = serve(Route("/r/{n}", redirect_chain))

    async with make_client() as client:
        with pytest.raises(TooManyRedirects):
            await client.fetch_object(peer.url("/r/4"), signer=None)

    assert len(peer.requests) == 4


@pytest.mark.anyio
async def test_fetch_object_checks_the_id_against_the_original_url(serve: Serve) -> None:
    # /moved redirects to /doc, whose id is /doc: a redirected canonical id (pitfall 1)
    peer = serve(
        Route("/moved", lambda r: RedirectResponse("/doc", status_code=301)),
        Route("/doc", self_document),
    )

    async with make_client() as client:
        with pytest.raises(IdMismatch):
            await client.fetch_object(peer.url("/moved"), signer=None)


@pytest.mark.anyio
async def test_a_redirect_to_another_host_is_signed_for_that_host(
    serve: Serve, signer: FakeSigner
) -> None:
    target = serve(Route("/doc", lambda r: as_document({"id": origin_url})))
    origin = serve(Route("/away", lambda r: RedirectResponse(target.url("/doc"), status_code=307)))
    origin_url = origin.url("/away")

    async with make_client() as client:
        document = await client.fetch_object(origin_url, signer=signer)

    assert document == {"id": origin_url}
    assert [call.url for call in signer.calls] == [origin_url, target.url("/doc")]
    assert signer.calls[1].headers["Host"] == f"127.0.0.1:{target.port}"
    assert target.schemes_seen() == ["cavage"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "location", ["ftp://127.0.0.1/x", "file:///etc/passwd", "https://u:p@x.test/"]
)
async def test_fetch_object_refuses_a_redirect_to_a_forbidden_target(
    serve: Serve, location: str
) -> None:
    peer = serve(
        Route("/away", lambda r: Response(status_code=302, headers={"location": location}))
    )

    async with make_client() as client:
        with pytest.raises(ForbiddenAddress):
            await client.fetch_object(peer.url("/away"), signer=None)


@pytest.mark.anyio
async def test_a_redirect_without_location_is_a_failed_fetch(serve: Serve) -> None:
    peer = serve(Route("/away", status_only(302)))

    async with make_client() as client:
        with pytest.raises(FetchFailed) as caught:
            await client.fetch_object(peer.url("/away"), signer=None)

    assert caught.value.status == 302


# -- SSRF, end to end -------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/o", "https://localhost:{port}/o"])
async def test_a_client_refusing_private_addresses_never_reaches_a_loopback_peer(
    serve: Serve, url: str, signer: FakeSigner
) -> None:
    peer = serve(Route("/o", self_document))

    async with make_client(allow_private=False) as client:
        with pytest.raises(ForbiddenAddress):
            await client.fetch_object(url.format(port=peer.port), signer=None)
        result = await client.post_activity(url.format(port=peer.port), b"{}", signer=signer)

    assert result == DeliveryResult(None, None, "forbidden", "cavage")
    assert peer.requests == []


# -- timeouts and network errors ----------------------------------------------------------------


async def hang(request: Request) -> Response:
    await asyncio.sleep(30)
    return Response(status_code=202)


@pytest.mark.anyio
async def test_fetch_object_gives_up_on_a_peer_that_does_not_answer(serve: Serve) -> None:
    peer = serve(Route("/o", hang))

    async with make_client(read_timeout=0.3) as client:
        with pytest.raises(RemoteUnreachable) as caught:
            await client.fetch_object(peer.url("/o"), signer=None)

    assert caught.value.reason == "timeout"


@pytest.mark.anyio
async def test_fetch_object_gives_up_at_the_total_deadline_on_a_trickling_peer(
    serve: Serve,
) -> None:
    async def trickle(request: Request) -> Response:
        async def drops() -> AsyncIterator[bytes]:
            yield b"{"
            while True:
                await asyncio.sleep(0.05)
                yield b" "

        return StreamingResponse(drops(), headers={"content-type": AP})

    peer = serve(Route("/o", trickle))

    async with make_client(read_timeout=1.0, total_timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(RemoteUnreachable) as caught:
            await client.fetch_object(peer.url("/o"), signer=None)

    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 2


@pytest.mark.anyio
async def test_fetch_object_reports_a_refused_connection(closed_port: int) -> None:
    async with make_client() as client:
        with pytest.raises(RemoteUnreachable) as caught:
            await client.fetch_object(f"http://127.0.0.1:{closed_port}/o", signer=None)

    assert caught.value.reason == "connect"


@pytest.mark.anyio
async def test_fetch_object_reports_a_name_that_does_not_resolve() -> None:
    async with make_client() as client:
        with pytest.raises(RemoteUnreachable) as caught:
            await client.fetch_object("http://does-not-exist.invalid/o", signer=None)

    assert caught.value.reason == "connect"


# -- fetch_json ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_fetch_json_reads_webfinger_without_content_type_or_id_checks(serve: Serve) -> None:
    jrd = {"subject": "acct:bakery@town.test", "links": []}
    peer = serve(
        Route("/.well-known/webfinger", lambda r: as_document(jrd, content_type="application/json"))
    )

    async with make_client() as client:
        document = await client.fetch_json(
            peer.url("/.well-known/webfinger?resource=acct:bakery@town.test")
        )

    assert document == jrd
    [seen] = peer.requests
    assert seen.headers["accept"] == "application/jrd+json, application/json"
    assert SIGNATURE_HEADER not in seen.headers


@pytest.mark.anyio
async def test_fetch_json_applies_the_size_cap(serve: Serve) -> None:
    peer = serve(
        Route("/j", lambda r: as_document({"x": "y" * 5000}, content_type="application/json"))
    )

    async with make_client(max_body_bytes=1000) as client:
        with pytest.raises(ResponseTooLarge):
            await client.fetch_json(peer.url("/j"))


# -- double knock on GET ---------------------------------------------------------------------


def only_rfc9421(refusal: int) -> Callable[[Request], Response]:
    def handle(request: Request) -> Response:
        if request.headers.get(SIGNATURE_HEADER) != "rfc9421":
            return Response(status_code=refusal)
        return as_document({"id": str(request.url)})

    return handle


@pytest.mark.anyio
@pytest.mark.parametrize("refusal", [401, 403])
async def test_a_refused_signed_fetch_is_retried_once_with_rfc9421_and_remembered(
    serve: Serve, signer: FakeSigner, refusal: int
) -> None:
    peer = serve(Route("/o", only_rfc9421(refusal)))

    async with make_client() as client:
        first = await client.fetch_object(peer.url("/o"), signer=signer)
        second = await client.fetch_object(peer.url("/o"), signer=signer)

    assert first == second == {"id": peer.url("/o")}
    assert peer.schemes_seen() == ["cavage", "rfc9421", "rfc9421"]


# -- post_activity ---------------------------------------------------------------------------


def inbox(status: int, **headers: str) -> tuple[Route, list[bytes]]:
    bodies: list[bytes] = []

    async def handle(request: Request) -> Response:
        bodies.append(await request.body())
        return Response(status_code=status, headers=headers)

    return Route("/inbox", handle, methods=["POST"]), bodies


@pytest.mark.anyio
async def test_post_activity_delivers_a_signed_activity(serve: Serve, signer: FakeSigner) -> None:
    route, bodies = inbox(202)
    peer = serve(route)
    activity = b'{"type": "Create"}'

    async with make_client() as client:
        result = await client.post_activity(peer.url("/inbox"), activity, signer=signer)

    assert result == DeliveryResult(202, None, None, "cavage")
    assert bodies == [activity]
    [seen] = peer.requests
    assert seen.headers["content-type"] == AP
    assert seen.headers[SIGNATURE_HEADER] == "cavage"
    [call] = signer.calls
    assert (call.method, call.body) == ("POST", activity)
    assert call.headers["Content-Type"] == AP
    assert call.headers["Host"] == seen.headers["host"]


@pytest.mark.anyio
async def test_headers_from_the_signer_replace_ours_whatever_their_case(serve: Serve) -> None:
    route, _ = inbox(202)
    peer = serve(route)

    def signer(
        method: str, url: str, headers: Any, body: bytes | None, scheme: Any
    ) -> dict[str, str]:
        return {"date": "Thu, 02 Jan 2025 00:00:00 GMT", "signature": "sig"}

    async with make_client() as client:
        await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)

    [seen] = peer.requests
    assert [value for name, value in seen.raw_headers if name == "date"] == [
        "Thu, 02 Jan 2025 00:00:00 GMT"
    ]
    assert seen.headers["signature"] == "sig"


@pytest.mark.anyio
@pytest.mark.parametrize("status", [200, 500, 404, 410])
async def test_post_activity_reports_the_status(
    serve: Serve, signer: FakeSigner, status: int
) -> None:
    route, _ = inbox(status)
    peer = serve(route)

    async with make_client() as client:
        result = await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)

    assert result == DeliveryResult(status, None, None, "cavage")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("retry_after", "seconds"),
    [("120", 120.0), ("Wed, 01 Jan 2025 12:02:00 GMT", 120.0), ("soon", None)],
)
async def test_post_activity_reads_retry_after(
    serve: Serve, signer: FakeSigner, retry_after: str, seconds: float | None
) -> None:
    route, _ = inbox(429, **{"retry-after": retry_after})
    peer = serve(route)

    async with make_client() as client:
        result = await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)

    assert result == DeliveryResult(429, seconds, None, "cavage")


@pytest.mark.anyio
async def test_post_activity_does_not_follow_redirects(serve: Serve, signer: FakeSigner) -> None:
    peer = serve(Route("/inbox", status_only(308, location="/elsewhere"), methods=["POST"]))

    async with make_client() as client:
        result = await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)

    assert result.status == 308
    assert len(peer.requests) == 1


@pytest.mark.anyio
async def test_post_activity_reads_only_the_start_of_a_long_answer(
    serve: Serve, signer: FakeSigner
) -> None:
    peer = serve(
        Route(
            "/inbox",
            lambda r: Response(b"x" * (4 * 1024 * 1024), status_code=202),
            methods=["POST"],
        )
    )

    async with make_client() as client:
        result = await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)

    assert result.status == 202


@pytest.mark.anyio
async def test_post_activity_times_out_on_a_peer_that_does_not_answer(
    serve: Serve, signer: FakeSigner
) -> None:
    peer = serve(Route("/inbox", hang, methods=["POST"]))

    async with make_client(read_timeout=0.3) as client:
        result = await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)

    assert result == DeliveryResult(None, None, "timeout", "cavage")


@pytest.mark.anyio
async def test_post_activity_reports_a_refused_connection(
    closed_port: int, signer: FakeSigner
) -> None:
    async with make_client() as client:
        result = await client.post_activity(
            f"http://127.0.0.1:{closed_port}/inbox", b"{}", signer=signer
        )

    assert result == DeliveryResult(None, None, "connect", "cavage")


# -- double knock on POST --------------------------------------------------------------------


def inbox_accepting(*schemes: str, refusal: int = 401) -> Route:
    def handle(request: Request) -> Response:
        accepted = request.headers.get(SIGNATURE_HEADER) in schemes
        return Response(status_code=202 if accepted else refusal)

    return Route("/inbox", handle, methods=["POST"])


@pytest.mark.anyio
@pytest.mark.parametrize("refusal", [400, 401])
async def test_a_refused_delivery_is_retried_with_rfc9421_and_the_host_remembered(
    serve: Serve, signer: FakeSigner, refusal: int
) -> None:
    # Given an inbox that answers 401 to cavage and 202 to RFC 9421
    peer = serve(inbox_accepting("rfc9421", refusal=refusal))

    async with make_client() as client:
        # When we deliver twice
        first = await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)
        second = await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)

    # Then the first delivery knocked twice and the second started with RFC 9421
    assert first == DeliveryResult(202, None, None, "rfc9421")
    assert second == DeliveryResult(202, None, None, "rfc9421")
    assert peer.schemes_seen() == ["cavage", "rfc9421", "rfc9421"]


@pytest.mark.anyio
async def test_a_host_refusing_both_schemes_keeps_the_default(
    serve: Serve, signer: FakeSigner
) -> None:
    peer = serve(inbox_accepting())

    async with make_client() as client:
        first = await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)
        await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)

    assert first == DeliveryResult(401, None, None, "rfc9421")
    assert peer.schemes_seen() == ["cavage", "rfc9421", "cavage", "rfc9421"]


@pytest.mark.anyio
async def test_a_forbidden_delivery_is_not_knocked_again(serve: Serve, signer: FakeSigner) -> None:
    peer = serve(inbox_accepting(refusal=403))

    async with make_client() as client:
        result = await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)

    assert result.status == 403
    assert peer.schemes_seen() == ["cavage"]


@pytest.mark.anyio
async def test_a_host_remembered_as_rfc9421_falls_back_to_cavage(
    serve: Serve, signer: FakeSigner
) -> None:
    peer = serve(inbox_accepting("cavage"))
    memory = SchemeMemory()
    memory.remember(f"127.0.0.1:{peer.port}", "rfc9421")

    async with make_client(scheme_memory=memory) as client:
        result = await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)

    assert result == DeliveryResult(202, None, None, "cavage")
    assert memory.scheme_for(f"127.0.0.1:{peer.port}") == "cavage"


# -- the pure parts ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_shared_scheme_memory_learns_from_every_client(
    serve: Serve, signer: FakeSigner
) -> None:
    peer = serve(inbox_accepting("rfc9421"))
    memory = SchemeMemory()

    async with make_client(scheme_memory=memory) as client:
        await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)

    assert memory.scheme_for(f"127.0.0.1:{peer.port}") == "rfc9421"


def test_delivery_result_is_frozen() -> None:
    result = DeliveryResult(202, None, None, "cavage")
    with pytest.raises(AttributeError):
        result.status = 500  # type: ignore[misc]


@pytest.mark.anyio
async def test_a_delivery_on_a_connection_the_server_just_closed_is_sent_again_at_once(
    signer: FakeSigner,
) -> None:
    # Given a server that keeps connections alive but closes one, unanswered, on its second
    # request (as uvicorn or Node do when a POST meets their idle close)
    requests_per_connection: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests_per_connection.append(0)
        slot = len(requests_per_connection) - 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                requests_per_connection[slot] += 1
                if requests_per_connection[slot] == 2:
                    return  # closed without an answer
                writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with make_client() as client:
            # When two deliveries go out one after the other on the kept connection
            first = await client.post_activity(
                f"http://127.0.0.1:{port}/inbox", b"{}", signer=signer
            )
            second = await client.post_activity(
                f"http://127.0.0.1:{port}/inbox", b"{}", signer=signer
            )
    finally:
        server.close()
        await server.wait_closed()

    # Then the second is sent again on a new connection and delivered, not left to a retry
    assert (first.status, second.status) == (202, 202)
    assert requests_per_connection == [2, 1]


# -- post_push ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_post_push_sends_the_body_and_headers_unsigned(serve: Serve) -> None:
    # Given a push service on loopback that answers 201 with a Retry-After it does not need
    route, bodies = inbox(201)
    peer = serve(route)
    # When an encrypted push is posted to it
    async with make_client() as client:
        result = await client.post_push(
            peer.url("/inbox"), b"\x00sealed", {"Content-Encoding": "aes128gcm", "TTL": "60"}
        )
    # Then the bytes and headers arrived as given, with no signature
    assert result == DeliveryResult(201, None, None, "cavage")
    assert bodies == [b"\x00sealed"]
    [seen] = peer.requests
    assert seen.headers["content-encoding"] == "aes128gcm"
    assert seen.headers["ttl"] == "60"
    assert SIGNATURE_HEADER not in seen.headers


@pytest.mark.anyio
async def test_post_push_refuses_a_private_address_and_reports_a_closed_port() -> None:
    # Given a client that may not reach private addresses, and one that may
    async with make_client(allow_private=False) as guarded, make_client() as open_client:
        # When each pushes to loopback (the second to a port nothing listens on)
        refused = await guarded.post_push("https://127.0.0.1/push", b"x", {})
        sock = bind_loopback()
        port = sock.getsockname()[1]
        sock.close()
        closed = await open_client.post_push(f"http://127.0.0.1:{port}/push", b"x", {})
    # Then the guard refused the first before sending, the second found nobody
    assert (refused.status, refused.error) == (None, "forbidden")
    assert closed.status is None and closed.error in ("connect", "network")


# -- signing in a thread pool -----------------------------------------------------------------


def verifying_inbox(public_pem: str) -> tuple[Route, list[tuple[bool, str]]]:
    """An inbox that checks each POST's signature with ``public_pem`` (verdict, scheme)."""
    verdicts: list[tuple[bool, str]] = []
    key = load_public_key(public_pem)

    async def handle(request: Request) -> Response:
        body = await request.body()
        try:
            sig = httpsig.parse_request_signature(
                request.method, request.url.path, list(request.headers.items()), body
            )
            httpsig.verify_request_signature(
                sig, key, now=datetime.now(UTC), max_skew=timedelta(hours=1)
            )
        except Exception as exc:  # the test reads the verdicts
            verdicts.append((False, exc.__class__.__name__))
            return Response(status_code=401)
        scheme = "rfc9421" if "signature-input" in request.headers else "cavage"
        verdicts.append((True, scheme))
        return Response(status_code=202)

    return Route("/users/{name}/inbox", handle, methods=["POST"]), verdicts


@pytest.mark.anyio
@pytest.mark.parametrize("sign_threads", [0, 2])
async def test_deliveries_signed_in_threads_verify_at_the_receiver(
    serve: Serve, sign_threads: int
) -> None:
    # Given a real key, a signer that notes the thread it signs in, and a verifying inbox
    private_pem, public_pem = generate_rsa_keypair()
    key_signer = KeySigner("https://town.test/users/bakery#main-key", private_pem, _utc_now)
    threads: list[str] = []

    def signer(
        method: str, url: str, headers: Any, body: bytes | None, scheme: Any
    ) -> dict[str, str]:
        threads.append(threading.current_thread().name)
        return key_signer(method, url, headers, body, scheme)

    route, verdicts = verifying_inbox(public_pem)
    peer = serve(route)
    activity = b'{"type": "Create", "id": "https://town.test/a/1"}'

    # When 40 deliveries go out at once through a client with that many signing threads
    async with make_client(sign_threads=sign_threads, clock=_utc_now) as client:
        results = await asyncio.gather(
            *(
                client.post_activity(peer.url(f"/users/f{n}/inbox"), activity, signer=signer)
                for n in range(40)
            )
        )

    # Then every one arrived, and its signature verified with the sender's public key
    assert [r.status for r in results] == [202] * 40
    assert verdicts == [(True, "cavage")] * 40
    # And the signing ran in the pool when there is one, else on the event loop's thread
    if sign_threads:
        assert {name.rsplit("_", 1)[0] for name in threads} == {"fedi-town-sign"}
    else:
        assert set(threads) == {threading.current_thread().name}


@pytest.mark.anyio
async def test_a_second_knock_is_signed_in_the_pool_too(serve: Serve) -> None:
    # Given an inbox that accepts RFC 9421 only
    peer = serve(inbox_accepting("rfc9421"))
    signer = FakeSigner()

    # When a client with signing threads delivers to it
    async with make_client(sign_threads=2) as client:
        result = await client.post_activity(peer.url("/inbox"), b"{}", signer=signer)

    # Then the first (cavage) knock was refused and the second went through
    assert result == DeliveryResult(202, None, None, "rfc9421")
    assert [call.scheme for call in signer.calls] == ["cavage", "rfc9421"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


# -- offline: no fetch goes out ---------------------------------------------------------


@pytest.mark.anyio
async def test_inside_offline_a_fetch_raises_needs_network_and_sends_nothing(
    serve: Serve,
) -> None:
    # Given a peer serving a document
    peer = serve(Route("/notes/1", self_document))
    url = peer.url("/notes/1")

    async with make_client() as client:
        # When a fetch is asked for inside offline()
        with offline(), pytest.raises(NeedsNetwork) as raised:
            await client.fetch_object(url, signer=None)
        # Then it names the URL, no request reached the peer, and no handler's
        # ``except Exception`` would have caught it
        assert raised.value.url == url
        assert peer.requests == []
        assert not isinstance(raised.value, Exception)
        # And outside offline() the same fetch goes out as usual
        assert (await client.fetch_object(url, signer=None))["id"] == url
    assert len(peer.requests) == 1


@pytest.mark.parametrize(
    ("open_files", "kept"), [(256, 64), (1024, 256), (4096, 1024), (1 << 20, 1024)]
)
def test_idle_delivery_connections_are_a_quarter_of_the_open_file_limit_within_bounds(
    open_files: int, kept: int
) -> None:
    assert delivery_idle_connections(open_files) == kept
