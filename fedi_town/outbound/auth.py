"""Bearer tokens for the admin API: the instance admin token and per-business owner tokens.

Owner tokens are random 256-bit strings shown once; only their SHA-256 is stored (a slow hash
buys nothing against a 256-bit secret). Lookup is by hash, and every comparison uses
``hmac.compare_digest`` so response time does not depend on how much of a token matched.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from starlette.requests import Request

from fedi_town.errors import NotFound, Unauthorized
from fedi_town.services import Services
from fedi_town.store import businesses
from fedi_town.store.businesses import Business

OWNER_TOKEN_PREFIX = "ftown_"  # noqa: S105 (a prefix, not a secret)


def hash_token(token: str) -> str:
    """Hex SHA-256 of a token: what is stored instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who is calling: the instance admin, or the owner of one business."""

    is_admin: bool
    business: Business | None = None


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    return token.strip()


async def authenticate(request: Request, services: Services) -> Caller:
    """Resolve the bearer token to a caller, or raise 401 (never saying which part was wrong)."""
    token = _bearer(request)
    admin = services.settings.admin_token
    if admin and hmac.compare_digest(hash_token(token), hash_token(admin)):
        return Caller(is_admin=True)
    if token.startswith(OWNER_TOKEN_PREFIX):
        digest = hash_token(token)
        business = await businesses.by_token_hash(services.store, digest)
        if business is not None:
            return Caller(is_admin=False, business=business)
    raise Unauthorized("invalid or revoked token")


async def require_admin(request: Request, services: Services) -> Caller:
    caller = await authenticate(request, services)
    if not caller.is_admin:
        from fedi_town.errors import Forbidden

        raise Forbidden("this needs the instance admin token")
    return caller


async def require_business(request: Request, services: Services, username: str) -> Business:
    """The business named in the path, if the caller is the admin or its owner.

    Another business's owner gets 404, the same as for a business that does not exist, so a
    token cannot be used to probe which names are taken.
    """
    caller = await authenticate(request, services)
    if caller.is_admin:
        business = await businesses.by_username(services.store, username)
    elif caller.business is not None and caller.business.username.lower() == username.lower():
        business = caller.business
    else:
        business = None
    if business is None:
        raise NotFound(f"no business {username!r} for this token")
    return business
