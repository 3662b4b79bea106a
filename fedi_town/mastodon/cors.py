"""CORS for the Mastodon client API, as Mastodon sends it: browser apps on their own sites
(Elk at elk.zone, Phanpy at phanpy.social) call this instance from the page.

Any origin may call ``MASTODON_PATHS`` (``Access-Control-Allow-Origin: *``, never with
credentials: these calls carry a bearer token, not cookies), and a preflight ``OPTIONS`` is
answered here. The owner app, the admin API and the consent page get no CORS headers.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The admin API lives under these; the rest of /api/v1 and /api/v2 is Mastodon's.
ADMIN_API_PREFIXES = ("/api/v1/businesses", "/api/v1/admin", "/api/v1/openapi.json")
OTHER_PATHS = ("/oauth/token", "/oauth/revoke", "/.well-known/oauth-authorization-server")
METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
EXPOSE = "Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id"
MAX_AGE = "86400"


def is_mastodon_path(path: str) -> bool:
    """Whether ``path`` is the Mastodon client API's (served or not), not the admin API's."""
    if path in OTHER_PATHS:
        return True
    if not path.startswith(("/api/v1/", "/api/v2/")):
        return False
    return not path.startswith(ADMIN_API_PREFIXES)


class MastodonCors:
    """ASGI middleware adding CORS to the Mastodon client API's paths only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_mastodon_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            allowed = headers.get("access-control-request-headers", "")
            answer: list[tuple[bytes, bytes]] = [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-allow-methods", METHODS.encode()),
                (b"access-control-max-age", MAX_AGE.encode()),
                (b"content-length", b"0"),
            ]
            if allowed:
                answer.append((b"access-control-allow-headers", allowed.encode("latin-1")))
            await send({"type": "http.response.start", "status": 204, "headers": answer})
            await send({"type": "http.response.body", "body": b""})
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [
                    *message.get("headers", []),
                    (b"access-control-allow-origin", b"*"),
                    (b"access-control-expose-headers", EXPOSE.encode()),
                ]
            await send(message)

        await self.app(scope, receive, with_cors)
