"""The pre-routed fast path: kept answers and inbox POSTs, before Starlette sees them.

``FastPath`` wraps the Starlette middleware stack. For a GET or HEAD whose (path, query,
representation) is in ``read.cache``, it sends the kept status, headers and body with two
``send`` calls; route matching over every route, the exception middlewares and the build
are skipped. Anything else, and every miss, goes to Starlette unchanged (stamped with the
cache generation, so the slow path may fill the cache; see ``read.cache.remember``).

A POST to an inbox (``/inbox``, ``/actor/inbox``, ``/users/{username}/inbox``) goes
straight to ``inbound.inbox.InboxEndpoint``, the same ASGI app the Starlette routes name:
the inboxes take bursts of thousands of POSTs, and routing plus two exception middlewares
were a fifth of each one's time. The endpoint answers its own errors (problem documents).

Who fetches still decides, exactly as on the slow path (``read.negotiate``):

- unsigned, authorized fetch off: the entry as an unsigned fetcher gets it;
- signed (``Signature``, ``Signature-Input`` or ``Authorization: Signature``): for a
  guarded document the fetch guard runs first on the ASGI scope
  (``read.fetch_guard.guard_scope``: the signature parsed and verified on every request,
  bad signature 401, blocked signer 403), then the entry with the headers a signed fetcher
  gets (``Cache-Control: private``);
- unsigned with authorized fetch on: only unguarded documents (WebFinger, NodeInfo, the
  instance actor), with the headers the slow path gives then (``Cache-Control: private``
  on ActivityPub documents); guarded ones go to the slow path, which answers 401.

An unsigned request with authorized fetch off is served without calling the fetch guard:
``read.fetch_guard`` lets every such request through (returns None), so the slow path
would build the very same answer.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from fedi_town.errors import ProblemError
from fedi_town.inbound.inbox import inbox_of_path
from fedi_town.inbound.routes import inbox_endpoint
from fedi_town.metrics import ROUTE
from fedi_town.read.cache import GENERATION, Entry, ResponseCache, request_key, response_cache
from fedi_town.read.fetch_guard import guard_scope
from fedi_town.services import Services
from fedi_town.web import problem_response

_READS = frozenset(("GET", "HEAD"))
_SIGNATURE_HEADERS = frozenset((b"signature", b"signature-input"))
#: The route template of a business's inbox, for the metrics (never the raw path).
_PERSONAL_INBOX = "/users/{username}/inbox"


class FastPath:
    """ASGI app: answer cache hits at once, hand the rest to ``app`` (Starlette's stack)."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services
        self.cache: ResponseCache = response_cache(services)
        self.authorized_fetch = services.settings.authorized_fetch
        self.inbox = inbox_endpoint(services)
        self.metrics = services.metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in _READS:
            if scope["method"] == "POST" and (inbox := inbox_of_path(scope["path"]))[0]:
                scope[ROUTE] = scope["path"] if inbox[1] is None else _PERSONAL_INBOX
                await self.inbox(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        accept = b""
        signed = False
        for name, value in scope["headers"]:
            if name == b"accept":
                if not accept:
                    accept = value
            elif name in _SIGNATURE_HEADERS or (
                name == b"authorization" and value[:10].lower() == b"signature "
            ):
                signed = True
        cache = self.cache
        entry = cache.get(request_key(scope["path"], scope["query_string"], accept))
        self.metrics.read_cache(entry is not None)
        if entry is not None:
            scope[ROUTE] = entry.route
            if not signed:
                if not self.authorized_fetch:
                    await _send(send, entry, entry.headers)
                    return
                if not entry.guarded:  # WebFinger, NodeInfo, the instance actor
                    await _send(send, entry, entry.signed_headers)
                    return
            elif await self._signed(scope, receive, send, entry):
                return
        scope[GENERATION] = cache.generation
        await self.app(scope, receive, send)

    async def _signed(self, scope: Scope, receive: Receive, send: Send, entry: Entry) -> bool:
        """Answer a signed request from ``entry`` once the guard allows it; False: let the
        slow path answer (the guard failed unexpectedly, so it runs again and reports)."""
        if entry.guarded:
            try:
                await guard_scope(scope, self.services, signed=True)
            except ProblemError as refused:
                await problem_response(refused)(scope, receive, send)
                return True
            except Exception:
                return False  # the slow path runs the guard again, logs and answers
            await _send(send, entry, entry.signed_headers)
        else:
            # Unguarded documents ignore the signature: the slow path answers a signed
            # request as an unsigned one (private only under authorized fetch).
            await _send(
                send, entry, entry.signed_headers if self.authorized_fetch else entry.headers
            )
        return True


async def _send(send: Send, entry: Entry, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": entry.body})
