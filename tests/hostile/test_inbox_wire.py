"""Hostile inbox requests as raw bytes on the wire, to a live fedi-town under uvicorn.

Where the HTTP server's own parsing matters (bytes over 0x7f in header values, which h11
passes on as obs-text; ``%00`` in a path, which uvicorn decodes to NUL), the request is
written byte for byte on a socket, signed for real. Each answer must be a 4xx, and a good
Like must still be taken and handled by the in-process worker afterwards.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import urlsplit

import pytest

from fedi_town.protocol.httpsig import sign_request
from fedi_town.protocol.keys import load_private_key
from fedi_town.store import businesses
from tests.inbound.helpers import add_post, add_remote_actor, keypair
from tests.live import wait_until
from tests.reliability import record

pytestmark = pytest.mark.anyio

ACTOR = "https://remote.example/users/alice"


async def raw_post(base_url: str, path: bytes, headers: list[tuple[bytes, bytes]], body: bytes):
    """POST exactly these bytes; the status code answered."""
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        head = b"POST " + path + b" HTTP/1.1\r\n"
        head += b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        head += b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        writer.write(head + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    finally:
        writer.close()
    return int(status_line.split()[1])


def signed_like(live, post_uri: str, path: str = "/inbox") -> tuple[bytes, list]:
    like = {
        "id": f"{ACTOR}#likes/{uuid.uuid4()}",
        "type": "Like",
        "actor": ACTOR,
        "object": post_uri,
    }
    body = json.dumps(like).encode()
    headers = sign_request(
        "POST",
        live.urls.base + path,
        {"Content-Type": "application/activity+json"},
        body,
        key_id=f"{ACTOR}#main-key",
        private_key=load_private_key(keypair()[0]),
        now=live.services.clock(),
    )
    return body, [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def mangled(headers: list, name: bytes, old: bytes, new: bytes) -> list:
    return [(k, v.replace(old, new, 1) if k.lower() == name else v) for k, v in headers]


async def test_raw_hostile_requests_are_4xx_and_the_instance_still_takes_a_like(live) -> None:
    # Given a live instance that knows alice's key, and a post of the bakery
    await live.create_business("bakery")
    business = await businesses.by_username(live.store, "bakery")
    _, post_uri = await add_post(live.services, business)
    await add_remote_actor(live.store, ACTOR)
    body, headers = signed_like(live, post_uri)
    nul_body, nul_headers = signed_like(live, post_uri, "/users/a%00b/inbox")
    cases = [
        (
            "wire: byte 0xe9 in Signature",
            b"/inbox",
            mangled(headers, b"signature", b'signature="', b'signature="\xe9'),
            body,
            401,
        ),
        (
            "wire: byte 0xff in Digest",
            b"/inbox",
            mangled(headers, b"digest", b"SHA-256=", b"SHA-256=\xff"),
            body,
            401,
        ),
        (
            "wire: byte 0x85 in keyId",
            b"/inbox",
            mangled(headers, b"signature", b"#main-key", b"#main-key\x85"),
            body,
            401,
        ),
        (
            "wire: Content-Encoding gzip",
            b"/inbox",
            [*headers, (b"Content-Encoding", b"gzip")],
            body,
            415,
        ),
        ("wire: %00 in inbox username", b"/users/a%00b/inbox", nul_headers, nul_body, 404),
        ("wire: UTF-16 body", b"/inbox", headers, body.decode().encode("utf-16"), 400),
    ]
    for case_class, path, case_headers, case_body, expected in cases:
        # When each is written on the wire, Then the answer is the 4xx expected, never a 5xx
        status = await raw_post(live.base_url, path, case_headers, case_body)
        record("inbox", case_class, str(status))
        assert status == expected, (case_class, status)
    # And a good Like is still taken and handled
    good_body, good_headers = signed_like(live, post_uri)
    assert await raw_post(live.base_url, b"/inbox", good_headers, good_body) == 202
    like_id = json.loads(good_body)["id"]

    async def handled() -> bool:
        state = await live.store.fetch_val(
            "SELECT state FROM inbox_items WHERE activity_uri = :u", {"u": like_id}
        )
        return state == "done"

    await wait_until(handled, timeout=10)
