"""What an app asks before and right after signing in: the instance, the signed-in account,
preferences, and the lists an app loads at start, answered empty where fedi-town has no
such thing (lists, filters, announcements, trends, custom emojis) so apps work.

    GET /api/v1/instance, /api/v2/instance          public
    GET /api/v1/accounts/verify_credentials         read:accounts or profile
    GET /api/v1/accounts/{id}, /api/v1/accounts/lookup?acct=
                                                    a business of this instance
    GET /api/v1/preferences                         read:accounts
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import Forbidden, NotFound
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.mastodon.entities import MASTODON_VERSION, business_account, remote_account
from fedi_town.mastodon.push import vapid_key
from fedi_town.mastodon.scopes import covers
from fedi_town.outbound.commands import MAX_CONTENT
from fedi_town.protocol.ids import path_id
from fedi_town.protocol.usernames import is_username
from fedi_town.services import Services
from fedi_town.store import actors, businesses, reads
from fedi_town.store.businesses import Business

SOURCE_URL = "https://github.com/fedi-town/fedi-town"
MAX_MEDIA = 4
IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"]
IMAGE_SIZE_LIMIT = 10 * 1024 * 1024
IMAGE_MATRIX_LIMIT = 33_177_600


def streaming_url(services: Services) -> str:
    """Where apps open the streaming API: this server, as ``wss://`` (``ws://`` for a
    plain-HTTP test instance), as Mastodon advertises its streaming server."""
    base = services.settings.base_url.rstrip("/")
    scheme, _, rest = base.partition("://")
    return ("wss" if scheme == "https" else "ws") + "://" + rest


def _configuration(services: Services, vapid_public: str) -> dict[str, Any]:
    return {
        "urls": {
            "streaming": streaming_url(services),
            "status": None,
            "about": services.urls.front_page(),
        },
        "vapid": {"public_key": vapid_public},
        "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
        "statuses": {
            "max_characters": MAX_CONTENT,
            "max_media_attachments": MAX_MEDIA,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": IMAGE_TYPES,
            "description_limit": 1500,
            "image_size_limit": IMAGE_SIZE_LIMIT,
            "image_matrix_limit": IMAGE_MATRIX_LIMIT,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {
            "max_options": 4,
            "max_characters_per_option": 50,
            "min_expiration": 300,
            "max_expiration": 2629746,
        },
        "translation": {"enabled": False},
    }


@endpoint(token=False)
async def instance_v2(request: Request, grant: Grant | None) -> Response:
    services: Services = request.app.state.services
    settings = services.settings
    users = await reads.count_live_businesses(services.store)
    return json(
        {
            "domain": services.urls.domain,
            "title": settings.instance_name,
            "version": MASTODON_VERSION,
            "source_url": SOURCE_URL,
            "description": settings.instance_description,
            "usage": {"users": {"active_month": users}},
            "thumbnail": {"url": services.settings.base_url.rstrip("/") + "/static/avatar.png"},
            "icon": [],
            "languages": ["en"],
            "configuration": _configuration(services, (await vapid_key(services)).public),
            "registrations": {
                "enabled": False,
                "approval_required": False,
                "reason_required": False,
                "message": None,
                "min_age": None,
                "url": None,
            },
            "api_versions": {"mastodon": 6},
            "contact": {"email": "", "account": None},
            "rules": [],
        }
    )


@endpoint(token=False)
async def instance_v1(request: Request, grant: Grant | None) -> Response:
    services: Services = request.app.state.services
    settings = services.settings
    users = await reads.count_live_businesses(services.store)
    posts = await reads.count_local_posts(services.store)
    return json(
        {
            "uri": services.urls.domain,
            "title": settings.instance_name,
            "short_description": settings.instance_description,
            "description": settings.instance_description,
            "email": "",
            "version": MASTODON_VERSION,
            "urls": {"streaming_api": streaming_url(services)},
            "stats": {"user_count": users, "status_count": posts, "domain_count": 0},
            "thumbnail": services.settings.base_url.rstrip("/") + "/static/avatar.png",
            "languages": ["en"],
            "registrations": False,
            "approval_required": False,
            "invites_enabled": False,
            "configuration": _configuration(services, (await vapid_key(services)).public),
            "contact_account": None,
            "rules": [],
        }
    )


@endpoint()
async def verify_credentials(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    if not (covers(grant.scopes, "read:accounts") or "profile" in grant.scopes):
        raise Forbidden("This action is outside the authorized scopes")
    services: Services = request.app.state.services
    return json(await business_account(services, grant.account(), credentials=True))


async def _live(services: Services, business: Business | None) -> Business:
    if business is None or business.deleted_at is not None or business.kind != "business":
        raise NotFound("Record not found")
    return business


@endpoint("read:accounts", token=False)
async def account(request: Request, grant: Grant | None) -> Response:
    """A business here, or an account elsewhere that we know (who followed, replied...)."""
    services: Services = request.app.state.services
    account_id = path_id(str(request.path_params["id"]), "account")
    business = await businesses.by_id(services.store, account_id)
    if business is None:
        remote = await actors.by_id(services.store, account_id)
        if remote is not None:
            return json(remote_account(services, remote))
    found = await _live(services, business)
    return json(await business_account(services, found))


@endpoint("read:accounts", token=False)
async def lookup(request: Request, grant: Grant | None) -> Response:
    services: Services = request.app.state.services
    acct = params.text(params.query(request), "acct").lstrip("@")
    name, _, host = acct.partition("@")
    found = None
    if is_username(name) and host.lower() in ("", services.urls.domain.lower()):
        found = await businesses.by_username(services.store, name)
    return json(await business_account(services, await _live(services, found)))


@endpoint("read:accounts")
async def preferences(request: Request, grant: Grant | None) -> Response:
    assert grant is not None
    grant.account()
    return json(
        {
            "posting:default:visibility": "public",
            "posting:default:sensitive": False,
            "posting:default:language": None,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False,
        }
    )


def _empty_list(needs: str | None, *, token: bool = True) -> Any:
    """An endpoint that answers ``[]``: something fedi-town does not have (yet)."""

    @endpoint(needs, token=token)
    async def empty(request: Request, grant: Grant | None) -> Response:
        return json([])

    return empty


@endpoint(token=False)
async def custom_emojis(request: Request, grant: Grant | None) -> Response:
    return json([])


routes = [
    Route("/api/v1/instance", instance_v1, methods=["GET"]),
    Route("/api/v2/instance", instance_v2, methods=["GET"]),
    Route("/api/v1/accounts/verify_credentials", verify_credentials, methods=["GET"]),
    Route("/api/v1/accounts/lookup", lookup, methods=["GET"]),
    Route("/api/v1/accounts/{id}", account, methods=["GET"]),
    Route("/api/v1/preferences", preferences, methods=["GET"]),
    Route("/api/v1/custom_emojis", custom_emojis, methods=["GET"]),
    Route("/api/v1/instance/peers", _empty_list(None, token=False), methods=["GET"]),
    Route("/api/v1/instance/rules", _empty_list(None, token=False), methods=["GET"]),
    Route("/api/v1/lists", _empty_list("read:lists"), methods=["GET"]),
    Route("/api/v1/filters", _empty_list("read:filters"), methods=["GET"]),
    Route("/api/v2/filters", _empty_list("read:filters"), methods=["GET"]),
    Route("/api/v1/announcements", _empty_list(None), methods=["GET"]),
    Route("/api/v1/trends", _empty_list(None, token=False), methods=["GET"]),
    Route("/api/v1/trends/tags", _empty_list(None, token=False), methods=["GET"]),
    Route("/api/v1/trends/statuses", _empty_list(None, token=False), methods=["GET"]),
    Route("/api/v1/trends/links", _empty_list(None, token=False), methods=["GET"]),
    Route("/api/v1/followed_tags", _empty_list("read:follows"), methods=["GET"]),
]
