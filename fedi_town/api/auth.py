"""Bearer tokens for the admin API: the instance admin token and per-business owner tokens.

Owner tokens are random 256-bit strings shown once; only their SHA-256 is stored (a slow hash
buys nothing against a 256-bit secret). Lookup is by hash, and every comparison uses
``hmac.compare_digest`` so response time does not depend on how much of a token matched.

After ``MAX_FAILURES`` wrong tokens from one client address within ``FAILURE_WINDOW_S``,
that address gets 429 with Retry-After until the window ends, whatever token it sends. The
check comes before any token is looked at (one dictionary lookup), so its answer and its time
say nothing about which tokens exist; a caller that sends a right token never counts.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import HTTPConnection, Request

from fedi_town.errors import Forbidden, NotFound, TooManyRequests, Unauthorized
from fedi_town.protocol.usernames import is_username
from fedi_town.services import Services
from fedi_town.store import businesses
from fedi_town.store.businesses import Business

log = logging.getLogger(__name__)

OWNER_TOKEN_PREFIX = "ftown_"  # noqa: S105 (a prefix, not a secret)
#: Wrong tokens one address may send per window before it must wait.
MAX_FAILURES = 10
FAILURE_WINDOW_S = 60.0
#: Addresses remembered at most; past it, those whose window has ended are forgotten.
MAX_ADDRESSES = 10_000


def hash_token(token: str) -> str:
    """Hex SHA-256 of a token: what is stored instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


#: Where the owner's web app puts the signed-in person's ``Caller`` for its in-process calls
#: (``webapp.client``). Only code in this process can put a key in an ASGI scope: a request
#: from outside carries headers, never scope keys, so this cannot be forged over HTTP.
CALLER_SCOPE_KEY = "fedi_town.caller"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the instance admin, or the owner of one business.

    A bearer token gives ``role`` "admin" or "owner"; a person signed in to the web app gives
    their own role ("staff" may do everything but manage people) and ``person_id``.
    """

    is_admin: bool
    business: Business | None = None
    person_id: int | None = None
    role: str = "owner"

    @property
    def manages_people(self) -> bool:
        return self.is_admin or self.role == "owner"


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    return token.strip()


class AuthFailures:
    """Wrong tokens per client address in fixed windows of ``FAILURE_WINDOW_S``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        #: address -> (window start, wrong tokens in it)
        self._seen: dict[str, tuple[float, int]] = {}

    def wait(self, address: str) -> float:
        """Seconds ``address`` must wait before its tokens are looked at again (0.0: none)."""
        found = self._seen.get(address)
        if found is None:
            return 0.0
        start, count = found
        left = start + FAILURE_WINDOW_S - self._clock()
        return left if count >= MAX_FAILURES and left > 0 else 0.0

    def failed(self, address: str) -> None:
        now = self._clock()
        start, count = self._seen.get(address, (now, 0))
        if now - start >= FAILURE_WINDOW_S:
            start, count = now, 0
        if address not in self._seen and len(self._seen) >= MAX_ADDRESSES:
            self._seen = {a: v for a, v in self._seen.items() if now - v[0] < FAILURE_WINDOW_S}
        self._seen[address] = (start, count + 1)
        if count + 1 == MAX_FAILURES:
            log.warning(
                "admin API: %d wrong tokens from %s; refusing it a while", MAX_FAILURES, address
            )


def auth_failures(services: Services) -> AuthFailures:
    """This process's count of wrong tokens, made on first use."""
    return services.parts.get(AuthFailures, AuthFailures)


def refuse_if_throttled(request: HTTPConnection, services: Services) -> str:
    """429 for an address that sent too many wrong tokens lately (admin and owner tokens,
    Mastodon client tokens and client secrets share the count); else the address, for
    counting a wrong token it sends."""
    address = request.client.host if request.client is not None else ""
    wait = auth_failures(services).wait(address)
    if wait:
        raise TooManyRequests(
            "too many wrong tokens from this address; try again later",
            retry_after=max(1, math.ceil(wait)),
        )
    return address


async def authenticate(request: Request, services: Services) -> Caller:
    """Resolve the bearer token to a caller, or raise 401 (never saying which part was wrong);
    429 for an address that sent too many wrong tokens lately."""
    given = request.scope.get(CALLER_SCOPE_KEY)
    if isinstance(given, Caller):
        return given
    address = refuse_if_throttled(request, services)
    token = _bearer(request)
    admin = services.settings.admin_token
    if admin and hmac.compare_digest(hash_token(token), hash_token(admin)):
        return Caller(is_admin=True, role="admin")
    if token.startswith(OWNER_TOKEN_PREFIX):
        digest = hash_token(token)
        business = await businesses.by_token_hash(services.store, digest)
        if business is not None:
            return Caller(is_admin=False, business=business)
    auth_failures(services).failed(address)
    raise Unauthorized("invalid or revoked token")


async def require_admin(request: Request, services: Services) -> Caller:
    caller = await authenticate(request, services)
    if not caller.is_admin:
        raise Forbidden("this needs the instance admin token")
    return caller


async def require_business(request: Request, services: Services, username: str) -> Business:
    return (await require_business_caller(request, services, username))[0]


async def require_business_caller(
    request: Request, services: Services, username: str
) -> tuple[Business, Caller]:
    """The business named in the path, if the caller is the admin or its owner.

    Another business's owner gets 404, the same as for a business that does not exist, so a
    token cannot be used to probe which names are taken.
    """
    caller = await authenticate(request, services)
    if caller.is_admin and is_username(username):  # NUL or unicode: no lookup, a 404
        business = await businesses.by_username(services.store, username)
    elif caller.business is not None and caller.business.username.lower() == username.lower():
        business = caller.business
    else:
        business = None
    if business is None or business.kind != "business":  # the directory: api/directory.py
        raise NotFound(f"no business {username!r} for this token")
    return business, caller
