"""The web app's client of the admin API, in process: one source of truth.

Every page reads and writes through the API's own route handlers, so posting, validation and
permissions exist once. A call goes through the whole ASGI app (routing, error handlers) by
httpx's ``ASGITransport``, with no socket, and carries the signed-in person as
``scope["fedi_town.caller"]`` (``api.auth.CALLER_SCOPE_KEY``), which only in-process code
can set. The answer comes back as an ``ApiAnswer``: the JSON, or the problem's sentence and
its field errors keyed by form field name (JSON pointer ``/hours/0/opens`` → ``hours.0.opens``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from fedi_town.api.auth import CALLER_SCOPE_KEY, Caller
from fedi_town.store.businesses import Business
from fedi_town.webapp.guard import Visitor, services_of


def plain_words(message: str) -> str:
    """A JSON Schema message in words for a shop owner ("'' is too short" → "Fill this
    in."); the API's own sentences pass through, capitalised and ending with a full stop."""
    message = message.strip()
    if not message:
        return "This was not accepted."
    if message.startswith("''") and ("non-empty" in message or "too short" in message):
        return "Fill this in."
    if message.endswith("is too long"):
        return "This is too long."
    if "is a required property" in message:
        return "Fill this in."
    if " is not one of " in message:
        return "Pick one from the list."
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    data: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def detail(self) -> str:
        """The problem's sentence (empty for a success)."""
        if self.ok or not isinstance(self.data, dict):
            return ""
        return str(self.data.get("detail") or self.data.get("title") or "")

    @property
    def field_errors(self) -> dict[str, str]:
        """``{"content": "..."}``: each error's message, in plain words, under its form
        field's name."""
        return {name: plain_words(message) for name, message in self.raw_field_errors.items()}

    @property
    def raw_field_errors(self) -> dict[str, str]:
        """The API's messages as they are, under form field names (for a page that words
        them itself, knowing its fields: ``business_forms.plain``)."""
        found: dict[str, str] = {}
        if self.ok or not isinstance(self.data, dict):
            return found
        for error in self.data.get("errors") or []:
            if not isinstance(error, dict):
                continue
            where = error.get("pointer") or error.get("parameter") or ""
            name = ".".join(p for p in str(where).strip("/").split("/") if p) or "_"
            found.setdefault(name, str(error.get("message", "")))
        return found


class _WithCaller:
    def __init__(self, app: ASGIApp, caller: Caller) -> None:
        self.app = app
        self.caller = caller

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope = dict(scope)
        scope[CALLER_SCOPE_KEY] = self.caller
        await self.app(scope, receive, send)


class Api:
    """The admin API as the signed-in person (``get``/``post``/``patch``/``put``/``delete``)."""

    def __init__(self, app: ASGIApp, caller: Caller, base_url: str) -> None:
        self._transport = httpx.ASGITransport(app=_WithCaller(app, caller))
        self._base_url = base_url

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> ApiAnswer:
        async with httpx.AsyncClient(
            transport=self._transport, base_url=self._base_url, trust_env=False
        ) as client:
            response = await client.request(
                method,
                path,
                json=json_body,
                params={k: v for k, v in (params or {}).items() if v is not None},
                files=files,
                data=data,
                headers={"Accept": "application/json"},
            )
        body: Any = None
        if response.content:
            try:
                body = json.loads(response.content)
            except ValueError:
                body = None
        return ApiAnswer(response.status_code, body, dict(response.headers))

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> ApiAnswer:
        return await self.request("GET", path, params=params)

    async def post(
        self,
        path: str,
        json: Any = None,
        *,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> ApiAnswer:
        return await self.request("POST", path, json_body=json, files=files, data=data)

    async def patch(self, path: str, json: Any = None) -> ApiAnswer:
        return await self.request("PATCH", path, json_body=json)

    async def put(self, path: str, json: Any = None) -> ApiAnswer:
        return await self.request("PUT", path, json_body=json)

    async def delete(self, path: str) -> ApiAnswer:
        return await self.request("DELETE", path)


def api_for(request: Request, visitor: Visitor, business: Business | None) -> Api:
    """The API as ``visitor`` (for ``business``: the one the page is about)."""
    services = services_of(request)
    return Api(request.app, visitor.caller(business), services.settings.base_url)
