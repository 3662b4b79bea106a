"""HTTP glue shared by every route: bounded body reading, JSON and problem responses.

``problem`` documents follow RFC 9457 (``application/problem+json``). Activity documents go
out as ``application/activity+json`` (Mastodon rejects bare ld+json and json, interop F2).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from fedi_town.errors import BadRequest, PayloadTooLarge, ProblemError, UnsupportedMedia
from fedi_town.protocol import json_text
from fedi_town.protocol.json_text import BadJson
from fedi_town.protocol.vocabulary import AS_CONTEXT

ACTIVITY_JSON = "application/activity+json"
LD_JSON_AS = f'application/ld+json; profile="{AS_CONTEXT}"'


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON, the one serialiser of every response."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status, headers=headers, media_type="application/json")


def activity_response(
    data: Any | bytes, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """An ActivityStreams document; ``Vary: Accept`` since the same URL also serves HTML."""
    body = data if isinstance(data, bytes) else dumps(data)
    merged = {"Vary": "Accept", **(headers or {})}
    return Response(body, status, headers=merged, media_type=ACTIVITY_JSON)


def problem_response(error: ProblemError) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": error.title, "status": error.status}
    body["detail"] = error.detail
    if error.errors:
        body["errors"] = error.errors
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="fedi-town"'
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after))
    return Response(
        dumps(body), error.status, headers=headers, media_type="application/problem+json"
    )


def wants_activity_json(request: Request) -> bool:
    """True when the client asks for ActivityStreams rather than a web page."""
    accept = request.headers.get("accept", "").lower()
    if "application/activity+json" in accept:
        return True
    return "application/ld+json" in accept


def check_declared_length(declared: str | bytes | None, max_bytes: int) -> None:
    """Refuse a ``Content-Length`` over ``max_bytes`` (413) or not a number (400) before
    reading anything."""
    if declared is None:
        return
    try:
        length = int(declared)
    except ValueError:
        raise BadRequest("invalid Content-Length") from None
    if length > max_bytes:
        raise PayloadTooLarge(f"body larger than {max_bytes} bytes")


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The body, refusing (413) anything over ``max_bytes`` without reading it all."""
    check_declared_length(request.headers.get("content-length"), max_bytes)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"body larger than {max_bytes} bytes")
            chunks.append(chunk)
    except ClientDisconnect:  # gone, or cut off by serving's body deadline (408 sent)
        raise BadRequest("the request body did not arrive") from None
    return b"".join(chunks)


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Decode a JSON object or raise 400 saying what is wrong (never echoing the body)."""
    return parse_json_text(body)[0]


def parse_json_text(body: bytes) -> tuple[dict[str, Any], str]:
    """``protocol.json_text.parse_json_text`` (a JSON object and its text), its refusals as
    400s."""
    try:
        return json_text.parse_json_text(body)
    except BadJson as exc:
        raise BadRequest(str(exc)) from None


async def read_json(request: Request, max_bytes: int) -> dict[str, Any]:
    """Bounded read of a JSON object body with a JSON content type (admin API)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMedia("send the body as application/json")
    return parse_json_object(await read_body(request, max_bytes))
