"""One plain GET of our own public URL, for ``fedi-town doctor``: what answered, or why
nothing did.

Not ``RemoteClient``: the URL is the operator's own ``FEDI_TOWN_BASE_URL`` (often a private
or loopback address behind the proxy, which the SSRF guard rightly refuses for others'
URLs), nothing is signed, and the doctor wants the failure itself (refused, timed out, a
certificate problem) to explain, not a delivery verdict. No redirects are followed: a
redirect is itself something to report.
"""

from __future__ import annotations

import email.utils
import json
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

#: Largest body read; a NodeInfo discovery document is a few hundred bytes.
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Probe:
    """What a GET of ``url`` got: a status and a few headers, or ``error`` when no HTTP
    answer came (``status`` is then None)."""

    url: str
    status: int | None = None
    content_type: str = ""
    location: str = ""
    server: str = ""
    #: the answer's Date header, when it had a valid one
    date: datetime | None = None
    #: the body parsed as a JSON object, when it was one
    document: dict[str, Any] | None = None
    error: str | None = None


async def get(url: str, *, wait_s: float = 5.0) -> Probe:
    """GET ``url`` once within ``wait_s`` seconds; never raises for network trouble."""
    try:
        async with httpx.AsyncClient(timeout=wait_s, follow_redirects=False) as client:
            async with client.stream("GET", url, headers={"Accept": "application/json"}) as r:
                body = b""
                async for chunk in r.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY:
                        break
                return Probe(
                    url=url,
                    status=r.status_code,
                    content_type=r.headers.get("content-type", ""),
                    location=r.headers.get("location", ""),
                    server=r.headers.get("server", ""),
                    date=_date(r.headers.get("date")),
                    document=_json_object(body),
                )
    except httpx.TimeoutException:
        return Probe(url=url, error=f"no answer within {wait_s:g} s")
    except httpx.ConnectError as exc:
        return Probe(url=url, error=_connect_reason(exc))
    except httpx.HTTPError as exc:
        return Probe(url=url, error=f"{exc.__class__.__name__}: {exc}")


def _connect_reason(exc: httpx.ConnectError) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not accepted: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed: {cause.reason or cause}"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or exc.__class__.__name__
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "the name does not resolve (DNS)"
    return text


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
