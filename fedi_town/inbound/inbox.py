"""The inboxes: verify, dedupe, store, answer 202. Handling happens later, in the worker.

    POST /users/{username}/inbox   a business's own inbox (404 unknown, 410 deleted)
    POST /inbox                    the shared inbox
    POST /actor/inbox              the instance actor's inbox (same as the shared one)

In order: size cap (413) -> JSON content type, no content coding (415) -> a JSON object
that can be stored as it came (400, ``web.parse_json_text``: strict UTF-8, no NUL or lone
surrogate, bounded nesting) -> id, type, actor (400: plain http(s) ids, a type name or a
list of them, see below) -> signature parsed and checked against our clock and Host
(401) -> a Delete of an account we never saw is answered 202 with nothing fetched
(interop pitfall 13) ->
blocked actor or domain, instance-wide or of this business (403, before any key fetch)
-> signature verified with the signer's key (401) -> the key's owner is the activity's
actor (401) -> the backlog under its bound (503) and the actor's host under its rate
(429), both with Retry-After (``limits``: after the signature, so nobody can spend another
host's rate) -> stored with the next group commit, deduplicated by activity id -> 202.

In the common case nothing here reads the database: the business behind a personal inbox
(``businesses.inbox_owner``), the block list (``moderation.blocking``) and the signer's
key (``remote.verify.find_key``) come from per-process memory, and the one write is shared
with every other activity arriving meanwhile (``group_commit``); the 202 still waits for
its own row's commit. During a burst the worker steps aside (``backpressure``).

The inboxes are plain ASGI (``InboxEndpoint``), not Starlette request/response functions:
``fastpath`` hands every inbox POST to the endpoint before Starlette's routing and
middlewares, which took a fifth of an inbox request's time during a burst (the Starlette
routes below still declare them, and answer 405 to other methods). Errors are the same
``application/problem+json`` answers as everywhere else.

Refusals are logged as decisions: the activity id, its actor, the reason. Never a body.
Only ids that passed ``activities.is_plain_id`` (no whitespace, no control characters)
reach a log line, so a sender cannot forge one.

An activity may carry several types (``"type": ["Like", "Foo"]``); it is stored and
handled as the first one we have a handler for, else the first one (``kind_of``), as
Mastodon reads them. A personal inbox whose name is not a valid username is a 404 before
anything is looked up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Scope, Send

from fedi_town.errors import (
    BadRequest,
    Forbidden,
    Gone,
    NotFound,
    PayloadTooLarge,
    ProblemError,
    SignatureError,
    Unauthorized,
    UnsupportedMedia,
)
from fedi_town.inbound import limits
from fedi_town.inbound.group_commit import inbox_writer
from fedi_town.inbound.handlers import HANDLERS
from fedi_town.protocol.httpsig import KeyOwnerMismatch
from fedi_town.protocol.reading import host_of, id_of, is_plain_id, kind_of
from fedi_town.protocol.usernames import is_username
from fedi_town.remote import verify
from fedi_town.services import Services
from fedi_town.store import actors as store_actors
from fedi_town.store import businesses, moderation
from fedi_town.store.inbox import Received
from fedi_town.web import check_declared_length, parse_json_text, problem_response

log = logging.getLogger(__name__)

JSON_TYPES = frozenset({"application/activity+json", "application/ld+json", "application/json"})


_SHARED_PATHS = frozenset(("/inbox", "/actor/inbox"))
#: The scope key where ``accept`` notes the activity's type for the metrics (a type we
#: handle, else "other": a sender cannot add label values).
KIND = "fedi_town.inbox_kind"


class ClientGone(Exception):
    """The sender hung up before its body arrived: there is nobody to answer."""


def inbox_of_path(path: str) -> tuple[bool, str | None]:
    """Whether ``path`` is an inbox, and whose: (True, None) the shared one, (True,
    username) a business's own, (False, None) not an inbox."""
    if path in _SHARED_PATHS:
        return True, None
    if path.startswith("/users/") and path.endswith("/inbox"):
        username = path[7:-6]
        if username and "/" not in username:
            return True, username
    return False, None


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _check_content_headers(headers: list[tuple[bytes, bytes]]) -> None:
    """A JSON media type and no content coding: a compressed body is refused, never
    inflated (a few kilobytes of gzip can stand for gigabytes)."""
    raw = _header(headers, b"content-type") or b""
    media = raw.decode("latin-1").split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES:
        raise UnsupportedMedia("send the activity as application/activity+json")
    coding = _header(headers, b"content-encoding")
    if coding is not None and coding.strip().lower() not in (b"", b"identity"):
        raise UnsupportedMedia("send the activity without a Content-Encoding")


async def _read_body(scope: Scope, receive: Receive, max_bytes: int) -> bytes:
    """The whole body, refusing (413) anything over ``max_bytes`` without reading it all."""
    check_declared_length(_header(scope["headers"], b"content-length"), max_bytes)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"body larger than {max_bytes} bytes")
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _is_account_delete(activity: dict[str, Any], kind: str, actor: str) -> bool:
    """A ``Delete`` whose object is its own actor: an account deletion."""
    return kind == "Delete" and id_of(activity.get("object")) == actor


async def business_for_inbox(services: Services, username: str) -> int:
    """The id of the business whose inbox this is: 404 unknown or not a username (never
    looked up: such a name may hold what the database refuses), 410 deleted."""
    if not is_username(username):
        raise NotFound("no such business here")
    business = await businesses.inbox_owner(services.store, username)
    if business is None:
        raise NotFound(f"no business {username!r} here")
    if business.deleted:
        raise Gone(f"business {username!r} was deleted")
    return business.id


class InboxEndpoint:
    """ASGI app of the inboxes (the shared ones and every business's own): answers 202 or a
    problem document. Made once per app; ``fastpath`` calls it for every inbox POST."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        verdict = "error"
        try:
            _, username = inbox_of_path(scope["path"])
            business_id = None
            if username is not None:
                business_id = await business_for_inbox(self.services, username)
            verdict = await accept(self.services, scope, receive, business_id)
        except ProblemError as problem:
            verdict = verdict_of(problem)
            await problem_response(problem)(scope, receive, send)
            return
        except ClientGone:
            verdict = "client-gone"
            return
        except Exception as exc:
            # As app._unexpected_handler: the class and the route; a traceback may carry
            # request data, so it goes to DEBUG. Never the body, never headers.
            log.error("unhandled %s on POST %s", exc.__class__.__name__, scope["path"])
            log.debug("traceback", exc_info=exc)
            await problem_response(ProblemError("an internal error occurred"))(scope, receive, send)
            return
        finally:
            self.services.metrics.inbox(scope.get(KIND, "unknown"), verdict)
        # new messages each time: a wrapper around ``send`` may add headers to them
        await send(
            {
                "type": "http.response.start",
                "status": 202,
                "headers": [(b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})


#: Metrics' verdict of an inbox POST refused with a status (``verdict_of``).
_VERDICTS = {
    400: "invalid",
    401: "refused-signature",
    403: "blocked",
    404: "no-such-inbox",
    410: "no-such-inbox",
    413: "too-large",
    415: "invalid",
    429: "rate-limited",
    503: "busy",
}


def verdict_of(problem: ProblemError) -> str:
    """The verdict counted for an inbox POST answered with ``problem``."""
    if isinstance(problem, verify.KeyTemporarilyUnavailable):
        return "key-unavailable"
    return _VERDICTS.get(problem.status, "error")


@dataclass(frozen=True)
class Incoming:
    """A received activity that passed the checks needing neither key nor database."""

    activity: dict[str, Any]
    text: str  # the body as received, decoded
    id: str
    kind: str  # the type it is stored and handled as
    actor: str


def parse_activity(body: bytes) -> Incoming:
    """Read an inbox body: a storable JSON object with a plain id and actor on one host and
    a usable type; else 400 (``BadRequest``) and nothing else."""
    activity, text = parse_json_text(body)
    activity_id, kind, actor = (
        activity.get("id"),
        kind_of(activity, HANDLERS),
        id_of(activity.get("actor")),
    )
    if not is_plain_id(activity_id) or kind is None or not is_plain_id(actor):
        raise BadRequest("an activity needs an id, a type and an actor")
    assert isinstance(activity_id, str) and actor is not None
    if host_of(activity_id) != host_of(actor):
        _refuse(activity_id, actor, "id is not on the actor's host")
        raise BadRequest("the activity id is not on the actor's host")
    return Incoming(activity, text, activity_id, kind, actor)


async def accept(
    services: Services, scope: Scope, receive: Receive, business_id: int | None
) -> str:
    """Accept one activity POSTed to an inbox (``business_id`` None for the shared one);
    returns once it is stored (or known to be stored before), raises a ``ProblemError``.
    The verdict, for the metrics: ``accepted``, ``duplicate`` or ``ignored``."""
    body = await _read_body(scope, receive, services.settings.max_body_bytes)
    _check_content_headers(scope["headers"])
    incoming = parse_activity(body)
    activity, activity_id, kind, actor = (
        incoming.activity,
        incoming.id,
        incoming.kind,
        incoming.actor,
    )
    scope[KIND] = kind if kind in HANDLERS else "other"

    try:
        verifier = services.verifier()
        sig = verify.parse_scope(scope, body, services.urls.base)
        verify.precheck(verifier, sig)
        if _is_account_delete(activity, kind, actor) and not await store_actors.is_known(
            services.store, actor
        ):
            log.info("inbox: ignored Delete of unknown account %s", actor)
            return "ignored"
        # One query for instance-wide and this business's blocks, before any key fetch.
        if await moderation.blocking(services.store, actor, business_id, also=[sig.key_id]):
            _refuse(activity_id, actor, "domain or actor blocked")
            raise Forbidden("refused by this server's moderation")
        signer = await verify.verify_signature(verifier, sig, actor=actor)
        if signer.owner_uri != actor:
            raise KeyOwnerMismatch("the signing key does not belong to the activity's actor")
    except SignatureError as exc:
        services.metrics.signature_failure("inbox", exc.__class__.__name__)
        _refuse(activity_id, actor, exc.__class__.__name__)
        raise Unauthorized(f"HTTP signature refused: {exc.__class__.__name__}") from None
    except ProblemError as exc:
        if exc.status >= 500:
            _refuse(activity_id, actor, f"key unavailable ({exc.status})")
        raise

    limits.admit(services, actor)  # 503 over the backlog bound, 429 over the host rate
    received = Received(activity_id, business_id, actor, kind, incoming.text)
    row_id = await inbox_writer(services).store(received)  # committed (the worker is poked)
    if row_id is None:
        log.info("inbox: %s %s from %s already received", kind, activity_id, actor)
        return "duplicate"
    log.info("inbox: stored %s %s from %s as item %d", kind, activity_id, actor, row_id)
    return "accepted"


def _refuse(activity_id: str, actor: str, reason: str) -> None:
    log.info("inbox: refused %s from %s: %s", activity_id, actor, reason)
