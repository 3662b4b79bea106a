"""WebFinger and host-meta: how ``@bakery@town.example`` becomes an actor id.

Mastodon looks up ``acct:{user}@{host}`` and, after fetching any actor, resolves it again:
the ``self`` link must equal the actor ``id`` exactly, for businesses and for the instance
actor (interop W1-W5). Answers: 200 JRD, 404 unknown (only a 404 makes Mastodon try
host-meta), 410 deleted, 400 malformed. Every answer carries ``Access-Control-Allow-Origin``
and a few minutes of caching (W7).

``resolve_resource`` and the ``*_jrd`` builders are pure; 200 answers are kept in memory
(``read.cache``) until the business changes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import BadRequest, Gone, NotFound, ProblemError
from fedi_town.protocol.urls import INSTANCE_ACTOR_USERNAME, Urls
from fedi_town.protocol.usernames import is_username
from fedi_town.read.cache import INSTANCE, business_group, remember
from fedi_town.services import Services
from fedi_town.store import businesses
from fedi_town.web import ACTIVITY_JSON, dumps, problem_response

JRD = "application/jrd+json"
XRD = "application/xrd+xml"
PROFILE_PAGE_REL = "http://webfinger.net/rel/profile-page"
DISCOVERY_CACHE = "public, max-age=300"
ERROR_CACHE = "public, max-age=180"

#: CORS and caching for /.well-known/* and /nodeinfo/* (browsers resolve handles too).
DISCOVERY_HEADERS = {"Access-Control-Allow-Origin": "*", "Cache-Control": DISCOVERY_CACHE}


def discovery_response(data: Any | bytes, media_type: str) -> Response:
    body = data if isinstance(data, bytes) else dumps(data)
    return Response(body, 200, headers=DISCOVERY_HEADERS, media_type=media_type)


def discovery_problem(error: ProblemError) -> Response:
    response = problem_response(error)
    response.headers.update({**DISCOVERY_HEADERS, "Cache-Control": ERROR_CACHE})
    return response


def resolve_resource(resource: str | None, urls: Urls) -> str:
    """The username a WebFinger ``resource`` names on this server (any case).

    Accepts ``acct:user@host``, bare ``user@host``, and the actor or profile URL. Raises
    ``BadRequest`` for something that is none of these, ``NotFound`` for another host or a
    URL that names no actor.
    """
    text = (resource or "").strip()
    if not text:
        raise BadRequest("the resource parameter is required")
    lowered = text.lower()
    if lowered.startswith(("https://", "http://")):
        return _username_from_url(text, urls)
    if lowered.startswith("acct:"):
        text = text[len("acct:") :]
    elif ":" in text.split("@", 1)[0] or "@" not in text:
        raise BadRequest("resource must be acct:user@host or an actor URL")
    user, _, host = text.removeprefix("@").rpartition("@")
    if not user or not host or "@" in user or "/" in host:
        raise BadRequest("resource must be acct:user@host or an actor URL")
    if host.lower() != urls.domain.lower():
        raise NotFound("that account is not on this server")
    return _known_shape(user)


def _known_shape(username: str) -> str:
    """``username`` if it could be one here; NUL, unicode or 10,000 characters are a 404
    without a lookup."""
    if not is_username(username):
        raise NotFound("no such account on this server")
    return username


def _username_from_url(text: str, urls: Urls) -> str:
    parts = urlsplit(text)
    if parts.netloc.lower() != urls.domain.lower():
        raise NotFound("that URL is not on this server")
    if parts.query or parts.fragment:
        raise NotFound("that URL names no actor")
    path = parts.path
    if path == "/actor":
        return INSTANCE_ACTOR_USERNAME
    for prefix in ("/users/", "/@"):
        if path.startswith(prefix) and "/" not in path[len(prefix) :] and len(path) > len(prefix):
            return _known_shape(path[len(prefix) :])
    raise NotFound("that URL names no actor")


def business_jrd(urls: Urls, username: str) -> dict[str, Any]:
    """The JRD of a business, in the owner's spelling of the username."""
    actor = urls.actor(username)
    profile = urls.profile_page(username)
    return {
        "subject": urls.acct(username),
        "aliases": [profile, actor],
        "links": [
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile},
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor},
        ],
    }


def instance_actor_jrd(urls: Urls) -> dict[str, Any]:
    """The JRD of the instance actor: the round trip Mastodon makes for our signed GETs."""
    actor = urls.instance_actor()
    return {
        "subject": urls.acct(INSTANCE_ACTOR_USERNAME),
        "aliases": [actor],
        "links": [
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": urls.front_page()},
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor},
        ],
    }


async def webfinger(request: Request) -> Response:
    """``/.well-known/webfinger?resource=…``."""
    services: Services = request.app.state.services
    urls = services.urls
    try:
        username = resolve_resource(request.query_params.get("resource"), urls)
        if username.lower() == INSTANCE_ACTOR_USERNAME:
            response = discovery_response(instance_actor_jrd(urls), JRD)
            remember(request, response, INSTANCE, guarded=False)
            return response
        business = await businesses.by_username(services.store, username, include_deleted=True)
        if business is None:
            raise NotFound("no such account on this server")
        if business.deleted_at is not None:
            raise Gone("this account was deleted")
        response = discovery_response(business_jrd(urls, business.username), JRD)
        remember(request, response, business_group(business.username), guarded=False)
        return response
    except ProblemError as error:
        return discovery_problem(error)


def host_meta_xrd(urls: Urls) -> bytes:
    """The XRD pointing at our WebFinger (Mastodon's fallback after a 404, W6)."""
    template = quoteattr(urls.webfinger_template())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template={template}/>\n'
        "</XRD>\n"
    ).encode()


async def host_meta(request: Request) -> Response:
    services: Services = request.app.state.services
    return discovery_response(host_meta_xrd(services.urls), XRD)


async def host_meta_json(request: Request) -> Response:
    services: Services = request.app.state.services
    links = [{"rel": "lrdd", "template": services.urls.webfinger_template()}]
    return discovery_response({"links": links}, JRD)


routes = [
    Route("/.well-known/webfinger", webfinger, methods=["GET"]),
    Route("/.well-known/host-meta", host_meta, methods=["GET"]),
    Route("/.well-known/host-meta.json", host_meta_json, methods=["GET"]),
]
