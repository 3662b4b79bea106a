"""Editing the business's profile from a Mastodon app, through the admin API's own change
(``api.businesses.change_business``: validated, stored, and an ``Update`` to followers).

    PATCH /api/v1/accounts/update_credentials    write:accounts

Parameters (form, multipart or JSON): ``display_name``, ``note`` (the bio, Markdown here),
``locked``, ``discoverable``, ``indexable``, ``fields_attributes`` (up to 4 name/value
pairs; ``fields_attributes[0][name]`` in forms), and in multipart ``avatar`` and ``header``
images (through the admin API's image handling). ``bot`` and ``hide_collections`` are
accepted and ignored. Answers the CredentialAccount.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api.businesses import change_business
from fedi_town.api.media import MAX_FILE_BYTES, save_image
from fedi_town.errors import BadRequest, PayloadTooLarge, Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import business_account
from fedi_town.services import Services

IMAGES = ("avatar", "header")
MAX_BODY = 2 * MAX_FILE_BYTES + 64 * 1024
_FIELD_KEY = re.compile(r"\Afields_attributes\[(\d{1,2})\]\[(name|value)\]\Z")


async def _bounded(request: Request) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > MAX_BODY:
            raise PayloadTooLarge("images are limited to 10 MB each")
        yield chunk


async def _multipart(request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The text fields and the images of a multipart body, within size limits."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise PayloadTooLarge("images are limited to 10 MB each")
    parser = MultiPartParser(
        request.headers, _bounded(request), max_files=2, max_fields=40, max_part_size=16 * 1024
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise BadRequest(f"malformed multipart body: {exc.message}") from None
    values: dict[str, Any] = {}
    images: dict[str, bytes] = {}
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name in IMAGES:
                    data = await value.read(MAX_FILE_BYTES + 1)
                    if len(data) > MAX_FILE_BYTES:
                        raise PayloadTooLarge("images are limited to 10 MB each")
                    images[name] = data
            elif "\x00" in value:
                raise BadRequest("a parameter holds NUL")
            else:
                values[name] = value
    finally:
        await form.close()
    return values, images


def _fields(values: dict[str, Any]) -> list[dict[str, str]] | None:
    """``fields_attributes`` as a list, from JSON (a list or an index-keyed object) or from
    form keys ``fields_attributes[i][name]``; None when not sent."""
    found: dict[int, dict[str, str]] = {}
    raw = values.get("fields_attributes")
    if isinstance(raw, list):
        found = {i: item for i, item in enumerate(raw) if isinstance(item, dict)}
    elif isinstance(raw, dict):
        found = {int(k): v for k, v in raw.items() if str(k).isdigit() and isinstance(v, dict)}
    for key, value in values.items():
        match = _FIELD_KEY.match(key)
        if match:
            found.setdefault(int(match.group(1)), {})[match.group(2)] = str(value)
    if raw is None and not found:
        return None
    pairs = [found[i] for i in sorted(found)]
    return [
        {"name": str(p.get("name", "")).strip(), "value": str(p.get("value", "")).strip()}
        for p in pairs
        if str(p.get("name", "")).strip() and str(p.get("value", "")).strip()
    ]


@endpoint("write:accounts")
async def update_credentials(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    business = grant.account()
    services: Services = request.app.state.services
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        values, images = await _multipart(request)
    else:
        values, images = await params.read(request, services.settings.max_body_bytes), {}
    data: dict[str, Any] = {}
    if "display_name" in values:
        data["display_name"] = params.text(values, "display_name").strip()
    if "note" in values:
        data["summary"] = params.text(values, "note")
    for ours, theirs in (
        ("manually_approves_followers", "locked"),
        ("discoverable", "discoverable"),
        ("indexable", "indexable"),
    ):
        flag = params.flag(values, theirs)
        if flag is not None:
            data[ours] = flag
    fields = _fields(values)
    if fields is not None:
        data["fields"] = fields
    for name, image in images.items():
        media = await save_image(services, business, image, "")
        data[f"{name}_media_id"] = str(media.id)
    if data:
        try:
            business = await change_business(services, business, data)
        except Unprocessable as exc:
            raise Unprocessable(
                exc.detail, errors=[{**e, "pointer": _theirs(e)} for e in exc.errors or []]
            ) from None
    return json(await business_account(services, business, credentials=True))


def _theirs(error: dict[str, Any]) -> str:
    """A field error's pointer in Mastodon's words."""
    pointer = str(error.get("pointer", ""))
    for ours, theirs in (
        ("/summary", "/note"),
        ("/manually_approves_followers", "/locked"),
        ("/fields", "/fields_attributes"),
    ):
        if pointer.startswith(ours):
            return theirs + pointer[len(ours) :]
    return pointer


routes = [
    Route("/api/v1/accounts/update_credentials", update_credentials, methods=["PATCH"]),
]
