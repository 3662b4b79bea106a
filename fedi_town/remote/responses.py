"""Reading remote answers safely: a size-capped body, media types, JSON, Retry-After.

The body is read raw and decoded here, not by httpx, so the cap holds for the decoded
bytes *while* decoding: a small gzip bomb is stopped after ``limit + 1`` bytes of output
instead of being inflated a whole network chunk at a time.
"""

from __future__ import annotations

import email.utils
import zlib
from collections.abc import AsyncGenerator
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Any, cast

import httpx

from fedi_town.protocol.json_text import BadJson, parse_json_text
from fedi_town.remote.errors import BadContentType, BadDocument, ResponseTooLarge

AS_PROFILE = "https://www.w3.org/ns/activitystreams"


class _Identity:
    eof = True

    def decode(self, data: bytes, max_length: int) -> bytes:
        return data


class _Gzip:
    def __init__(self) -> None:
        self._inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)

    @property
    def eof(self) -> bool:
        return self._inflater.eof

    def decode(self, data: bytes, max_length: int) -> bytes:
        if self._inflater.eof:
            return b""  # trailing bytes after the gzip member
        # At most max_length bytes out; what does not fit stays in unconsumed_tail, and the
        # caller stops because the output has reached its cap.
        return self._inflater.decompress(data, max_length)


def _decoder(content_encoding: str, url: str) -> _Identity | _Gzip:
    coding = content_encoding.strip().lower()
    if coding in ("", "identity"):
        return _Identity()
    if coding in ("gzip", "x-gzip"):
        return _Gzip()
    raise BadDocument(url, f"unsupported Content-Encoding {coding[:40]!r}")


async def read_limited(response: httpx.Response, url: str, limit: int) -> bytes:
    """Return the decoded body of a streamed ``response``; ``ResponseTooLarge`` past ``limit``.

    Both the bytes on the wire and the decoded bytes count against ``limit``.
    """
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(url, f"Content-Length is over {limit} bytes")
    decoder = _decoder(response.headers.get("content-encoding", ""), url)
    received = 0
    body = bytearray()
    # aiter_raw is an async generator; close it even when we stop early.
    chunks = cast(AsyncGenerator[bytes, None], response.aiter_raw())
    async with aclosing(chunks):
        async for chunk in chunks:
            received += len(chunk)
            if received > limit:
                raise ResponseTooLarge(url, f"body is over {limit} bytes")
            try:
                body += decoder.decode(chunk, limit + 1 - len(body))
            except zlib.error:
                raise BadDocument(url, "body is not valid gzip") from None
            if len(body) > limit:
                raise ResponseTooLarge(url, f"decoded body is over {limit} bytes")
    if not decoder.eof:
        raise BadDocument(url, "gzip body is truncated")
    return bytes(body)


async def skim(response: httpx.Response, limit: int) -> None:
    """Read and discard at most about ``limit`` raw bytes of a streamed ``response``."""
    received = 0
    chunks = cast(AsyncGenerator[bytes, None], response.aiter_raw())
    async with aclosing(chunks):
        async for chunk in chunks:
            received += len(chunk)
            if received >= limit:
                return


def check_activitypub_media_type(content_type: str | None, url: str) -> None:
    """Accept what Mastodon accepts (interop F2): ``application/activity+json`` with any
    parameters, or ``application/ld+json`` whose ``profile`` names ActivityStreams."""
    main, *params = (content_type or "").split(";")
    media_type = main.strip().lower()
    if media_type == "application/activity+json":
        return
    if media_type == "application/ld+json":
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "profile" and AS_PROFILE in value.strip().strip('"').split():
                return
    raise BadContentType(url, f"Content-Type {media_type[:60]!r} is not ActivityStreams")


def parse_json_object(body: bytes, url: str) -> dict[str, Any]:
    """Parse ``body`` as a JSON object (``BadDocument`` otherwise), as strictly as the
    inbox reads one (``protocol.json_text``): a fetched actor or note is stored too."""
    try:
        return parse_json_text(body)[0]
    except BadJson as exc:
        raise BadDocument(url, str(exc)) from None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP date).

    A date in the past gives 0; an unreadable value gives None.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value) if len(value) <= 12 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, source unknown
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
