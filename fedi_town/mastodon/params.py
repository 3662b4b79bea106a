"""A Mastodon client's parameters, however it sends them: query string, form
(``application/x-www-form-urlencoded`` or ``multipart/form-data``, text fields only), or
a JSON body. Arrays come as ``name[]=`` in
forms and queries, as lists in JSON; both end up as a list under the bare name.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import parse_qsl

from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from fedi_town.errors import BadRequest, UnsupportedMedia
from fedi_town.web import parse_json_object, read_body


def _pairs(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise BadRequest("a parameter holds NUL")
        if key.endswith("[]"):
            values.setdefault(key[:-2], []).append(value)
        else:
            values[key] = value
    return values


def query(request: Request) -> dict[str, Any]:
    return _pairs(list(request.query_params.multi_items()))


async def read(request: Request, max_bytes: int) -> dict[str, Any]:
    """The query's parameters overlaid with the body's (form or JSON)."""
    values = query(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await read_body(request, max_bytes)
    if not body.strip():
        return values
    if content_type == "application/json" or content_type.endswith("+json"):
        values.update(parse_json_object(body))
    elif content_type == "multipart/form-data":
        values.update(await _multipart_fields(request, body))
    elif content_type in ("application/x-www-form-urlencoded", ""):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the form is not UTF-8") from None
        values.update(_pairs(parse_qsl(text, keep_blank_values=True)))
    else:
        raise UnsupportedMedia("send parameters as a form or as JSON")
    return values


async def _multipart_fields(request: Request, body: bytes) -> dict[str, Any]:
    """The text fields of a multipart form (masto.js sends the token request and others
    this way); files are not parameters and are left out."""

    async def chunks() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        request.headers, chunks(), max_files=0, max_fields=200, max_part_size=64 * 1024
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise BadRequest(f"malformed multipart body: {exc.message}") from None
    try:
        return _pairs([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    finally:
        await form.close()


def text(values: dict[str, Any], name: str, default: str = "") -> str:
    """A string parameter (a number or a boolean in JSON is taken as its text)."""
    value = values.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise BadRequest(f"{name} must be a string")


def flag(values: dict[str, Any], name: str) -> bool | None:
    """A boolean parameter as Mastodon reads them ("true", "1", true); None when absent."""
    if name not in values or values[name] in (None, ""):
        return None
    return text(values, name).lower() in ("true", "1", "on", "yes")


def strings(values: dict[str, Any], name: str) -> list[str]:
    value = values.get(name, [])
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise BadRequest(f"{name} must be a list")
    return [str(v) for v in value]
