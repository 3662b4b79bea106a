"""HTTP glue shared by every route: bounded body reading, JSON and problem responses.

``problem`` documents follow RFC 9457 (``application/problem+json``). Activity documents go
out as ``application/activity+json`` (Mastodon rejects bare ld+json and json, interop F2).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from fedi_town.errors import BadRequest, PayloadTooLarge, ProblemError, UnsupportedMedia

ACTIVITY_JSON = "application/activity+json"
LD_JSON_AS = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


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


#: How deeply a received JSON document may nest. Real activities nest a handful of levels
#: (an Undo of a Like of a note, a @context list of maps); 64 leaves room and keeps every
#: recursive reader far from Python's recursion limit.
MAX_JSON_DEPTH = 64

#: ``\u`` escapes that can make a lone surrogate or NUL once decoded (a valid pair also
#: matches; only then is every string of the document looked at).
_RISKY_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
#: What PostgreSQL text cannot hold and UTF-8 cannot encode: NUL and lone surrogates.
_NOT_SCALAR = re.compile("[\x00\ud800-\udfff]")


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Decode a JSON object or raise 400 saying what is wrong (never echoing the body)."""
    return parse_json_text(body)[0]


def parse_json_text(body: bytes) -> tuple[dict[str, Any], str]:
    """Decode a JSON object and its text, or raise 400 saying what is wrong (never echoing
    the body). What passes can be stored and served as it came in:

    - strictly UTF-8 (RFC 8259 section 8.1): no byte order mark, no UTF-16 or UTF-32, which
      ``json.loads`` on bytes would guess its way into;
    - no string (key or value) holding NUL or a lone surrogate, which PostgreSQL text and
      UTF-8 cannot store (strict decoding leaves ``\\u`` escapes as their only source, so the
      strings are only looked at when such an escape is in the bytes);
    - nested at most ``MAX_JSON_DEPTH`` levels (a body with fewer brackets than that cannot
      nest deeper, so only bracket-heavy bodies are walked);
    - no ``NaN`` or ``Infinity``, which are not JSON, nor integers of more digits than
      Python converts.
    """
    if not body:
        raise BadRequest("request body is empty; a JSON object is required")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        raise BadRequest("the body starts with a byte order mark; send UTF-8 without one")
    try:
        data = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: JSONDecodeError at position {exc.pos}") from None
    except RecursionError:
        raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # an integer too long to convert, NaN or Infinity
        raise BadRequest(f"malformed JSON: {exc.__class__.__name__}") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    deep = body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH
    risky = _RISKY_ESCAPE.search(body) is not None
    if deep or risky:
        _check_tree(data, depth=deep, text=risky)
    return data, text


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


#: Made once: ``json.loads`` with any keyword builds a new decoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _check_tree(data: Any, *, depth: bool, text: bool) -> None:
    """Walk a decoded document (without recursion) for nesting and unstorable strings."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        if depth and level > MAX_JSON_DEPTH:
            raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                if text and _NOT_SCALAR.search(key):
                    raise BadRequest("a JSON string holds NUL or a lone surrogate")
                stack.append((item, level + 1))
        elif isinstance(value, list):
            stack.extend((item, level + 1) for item in value)
        elif text and isinstance(value, str) and _NOT_SCALAR.search(value):
            raise BadRequest("a JSON string holds NUL or a lone surrogate")


async def read_json(request: Request, max_bytes: int) -> dict[str, Any]:
    """Bounded read of a JSON object body with a JSON content type (admin API)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMedia("send the body as application/json")
    return parse_json_object(await read_body(request, max_bytes))
