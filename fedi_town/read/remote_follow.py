""" "Follow from your Mastodon": send a visitor to their own server to follow a business.

The visitor types their handle (``@me@mastodon.social`` or ``me@mastodon.social``); we
answer 303 to ``https://{their host}/authorize_interaction?uri={actor id}``, the page
Mastodon (and servers copying it) shows to confirm a follow. The redirect is built only
from a hostname that passed ``home_server``: never an open redirect to what was typed.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fedi_town.errors import Gone
from fedi_town.read import pages
from fedi_town.read.lookup import find_business
from fedi_town.read.negotiate import browser_errors
from fedi_town.services import Services
from fedi_town.web import read_body

MAX_FORM_BYTES = 2048

_HANDLE_RE = re.compile(r"\A@?(?P<user>[A-Za-z0-9_][A-Za-z0-9_.-]{0,63})@(?P<host>[^\s@/\\?#]+)\Z")
_LABEL_RE = re.compile(r"\A[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")


def home_server(handle: str) -> str | None:
    """The ``host[:port]`` of a fediverse handle, lower-case ASCII, or None if it is not one.

    The host must be a DNS name of at least two labels whose last is not numeric (so no IP
    literals, no ``localhost``), written in letters, digits and hyphens (IDN as punycode).
    """
    match = _HANDLE_RE.match(handle.strip())
    if match is None:
        return None
    host, _, port = match["host"].partition(":")
    if port and not (port.isascii() and port.isdigit() and 0 < int(port[:6]) < 65536):
        return None
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or len(labels) < 2 or labels[-1].isdigit():
        return None
    if not all(_LABEL_RE.match(label) for label in labels):
        return None
    return f"{ascii_host}:{int(port)}" if port else ascii_host


async def _submitted_handle(request: Request) -> str | None:
    if request.method == "POST":
        body = await read_body(request, MAX_FORM_BYTES)
        form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        return form.get("handle", [""])[0]
    return request.query_params.get("handle")


@browser_errors
async def remote_follow(request: Request) -> Response:
    """``/@{username}/follow`` (POST form, or GET ``?handle=``)."""
    services: Services = request.app.state.services
    business = await find_business(services, request)
    if business.deleted_at is not None:
        raise Gone(f"{business.username} has left this server")
    handle = await _submitted_handle(request)
    if handle is None:
        return RedirectResponse(services.urls.profile_page(business.username), 303)
    host = home_server(handle)
    problem = None
    if host is None:
        problem = "That does not look like a fediverse handle. Write it as @you@your.server."
    elif host == services.urls.domain.lower():
        problem = "That handle is on this server; enter the handle of your own account."
    if problem is not None or host is None:
        return await pages.profile(
            request, follow_error=problem, handle_value=handle[:200], status=400
        )
    target = services.urls.authorize_interaction(host, services.urls.actor(business.username))
    return RedirectResponse(target, 303)


routes = [Route("/@{username}/follow", remote_follow, methods=["GET", "POST"])]
