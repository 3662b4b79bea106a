"""A remote ActivityPub server for tests: real HTTP on loopback, real signatures.

``TestPeer`` runs a small Starlette app under uvicorn on 127.0.0.1 with its own actors
(RSA keys), WebFinger, notes, followers collections and inboxes. Its inboxes record every
request and check the HTTP signature the way a real server does: parse it, fetch the
signer's key from ``keyId`` (an unsigned GET), verify. It sends signed activities and
signed GETs to the server under test, and it can misbehave on purpose:

    peer.behave("alice", [Status(500), Status(202)])   # first POST 500, then 202s
    peer.behave("shared", [Status(429, {"Retry-After": "120"})])
    peer.behave("bob", [Hang(30)])                     # never answers in time

Its handles are ``acct:alice@127.0.0.1:PORT``; WebFinger answers over plain http.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi_town.protocol import httpsig
from fedi_town.protocol.keys import generate_rsa_keypair, load_private_key, load_public_key
from tests.live import bind_loopback, serve_app, wait_until

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AP_JSON = "application/activity+json"


@dataclass(frozen=True)
class Status:
    """Answer with this status (and headers)."""

    code: int
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Hang:
    """Hold the request this long before answering 202 (past a client's timeout)."""

    seconds: float


Behaviour = Status | Hang


@dataclass
class Received:
    """One request that reached a peer inbox."""

    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    error: str | None
    status: int
    at: datetime

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    @property
    def type(self) -> str | None:
        try:
            return str(self.json.get("type"))
        except ValueError:
            return None


@dataclass
class PeerActor:
    name: str
    uri: str
    key_id: str
    private_pem: str = field(repr=False)
    public_pem: str = field(repr=False)
    display_name: str = ""
    also_known_as: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class TestPeer:
    """A fake-but-real remote server. Use ``async with TestPeer.running() as peer``."""

    __test__ = False  # not a pytest class

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = bind_loopback(host)
        self.host = f"{host}:{self.sock.getsockname()[1]}"
        self.base = f"http://{self.host}"
        self.actors: dict[str, PeerActor] = {}
        self.notes: dict[str, dict[str, Any]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}  # name -> (bytes, Content-Type)
        self.received: list[Received] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of everything served
        self._behaviour: dict[str, list[Behaviour]] = {}
        self.verify_signatures = True
        self.client = httpx.AsyncClient(timeout=10)
        self.app = Starlette(
            routes=[
                Route("/.well-known/webfinger", self._webfinger),
                Route("/users/{name}", self._actor),
                Route("/users/{name}/followers", self._followers),
                Route("/users/{name}/inbox", self._inbox, methods=["POST"]),
                Route("/inbox", self._inbox, methods=["POST"]),
                Route("/notes/{nid}", self._note),
                Route("/files/{name}", self._file),
                Route("/@{name}/{nid}", self._note),  # a note's web address answers it too
            ]
        )

    # -- lifecycle --------------------------------------------------------------------
    @classmethod
    @asynccontextmanager
    async def running(cls, *names: str, host: str = "127.0.0.1") -> AsyncIterator[TestPeer]:
        peer = cls(host)
        for name in names or ("alice",):
            peer.add_actor(name)
        async with serve_app(peer.app, peer.sock):
            try:
                yield peer
            finally:
                await peer.client.aclose()

    def add_actor(self, name: str, display_name: str | None = None) -> PeerActor:
        private_pem, public_pem = generate_rsa_keypair()
        uri = f"{self.base}/users/{name}"
        actor = PeerActor(
            name, uri, f"{uri}#main-key", private_pem, public_pem, display_name or name.title()
        )
        self.actors[name] = actor
        return actor

    def actor(self, name: str = "alice") -> PeerActor:
        return self.actors[name]

    def handle(self, name: str = "alice") -> str:
        return f"@{name}@{self.host}"

    def behave(self, inbox: str, behaviours: list[Behaviour]) -> None:
        """Set how an inbox ("shared" or an actor name) answers: one per request, last repeats."""
        self._behaviour[inbox] = list(behaviours)

    # -- documents --------------------------------------------------------------------
    def actor_document(self, name: str) -> dict[str, Any]:
        actor = self.actors[name]
        document: dict[str, Any] = {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
            "id": actor.uri,
            "type": "Person",
            "preferredUsername": name,
            "name": actor.display_name,
            "summary": f"<p>{actor.display_name} lives here.</p>",
            "url": f"{self.base}/@{name}",
            "inbox": f"{actor.uri}/inbox",
            "outbox": f"{actor.uri}/outbox",
            "followers": f"{actor.uri}/followers",
            "following": f"{actor.uri}/following",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {
                "id": actor.key_id,
                "owner": actor.uri,
                "publicKeyPem": actor.public_pem,
            },
        }
        if actor.also_known_as:
            document["alsoKnownAs"] = actor.also_known_as
        document.update(actor.extra)
        return document

    def add_note(
        self, name: str, content: str, *, in_reply_to: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A public note by ``name`` served at /notes/{id}."""
        nid = uuid.uuid4().hex
        actor = self.actors[name]
        note = {
            "@context": AS_CONTEXT,
            "id": f"{self.base}/notes/{nid}",
            "type": "Note",
            "attributedTo": actor.uri,
            "content": content,
            "published": _now_iso(),
            "to": [PUBLIC],
            "cc": [f"{actor.uri}/followers"],
            "inReplyTo": in_reply_to,
            "url": f"{self.base}/@{name}/{nid}",
        }
        note.update(extra)
        self.notes[nid] = note
        return note

    def add_file(self, name: str, data: bytes, media_type: str) -> str:
        """Serve ``data`` at /files/{name} (a custom emoji, an attachment); its URL."""
        self.files[name] = (data, media_type)
        return f"{self.base}/files/{name}"

    # -- activities (shaped like Mastodon 4.x sends them) -------------------------------
    def new_id(self, name: str) -> str:
        return f"{self.actors[name].uri}#activities/{uuid.uuid4().hex}"

    def follow(self, target: str, name: str = "alice") -> dict[str, Any]:
        return {
            "@context": AS_CONTEXT,
            "id": f"{self.base}/{uuid.uuid4()}",
            "type": "Follow",
            "actor": self.actors[name].uri,
            "object": target,
        }

    def like(self, note_uri: str, name: str = "alice") -> dict[str, Any]:
        return {
            "@context": AS_CONTEXT,
            "id": f"{self.actors[name].uri}#likes/{uuid.uuid4().hex}",
            "type": "Like",
            "actor": self.actors[name].uri,
            "object": note_uri,
        }

    def announce(self, note_uri: str, author: str, name: str = "alice") -> dict[str, Any]:
        actor = self.actors[name]
        return {
            "@context": AS_CONTEXT,
            "id": f"{actor.uri}/statuses/{uuid.uuid4().hex}/activity",
            "type": "Announce",
            "actor": actor.uri,
            "published": _now_iso(),
            "to": [PUBLIC],
            "cc": [author, f"{actor.uri}/followers"],
            "object": note_uri,
        }

    def undo(self, activity: Mapping[str, Any], name: str = "alice") -> dict[str, Any]:
        inner = copy.deepcopy(dict(activity))
        inner.pop("@context", None)
        return {
            "@context": AS_CONTEXT,
            "id": f"{self.actors[name].uri}#undo/{uuid.uuid4().hex}",
            "type": "Undo",
            "actor": self.actors[name].uri,
            "object": inner,
        }

    def reply(
        self, in_reply_to: str, author: str, content: str, name: str = "alice"
    ) -> dict[str, Any]:
        """Create{Note} replying to ``in_reply_to`` and mentioning ``author`` (an actor id)."""
        note = self.add_note(
            name,
            content,
            in_reply_to=in_reply_to,
            cc=[f"{self.actors[name].uri}/followers", author],
            tag=[{"type": "Mention", "href": author, "name": "@someone"}],
        )
        body = {k: v for k, v in note.items() if k != "@context"}
        return {
            "@context": AS_CONTEXT,
            "id": f"{note['id']}/activity",
            "type": "Create",
            "actor": self.actors[name].uri,
            "published": note["published"],
            "to": note["to"],
            "cc": note["cc"],
            "object": body,
        }

    # -- talking to the server under test ---------------------------------------------
    async def post(
        self,
        inbox: str,
        activity: Mapping[str, Any] | bytes,
        *,
        name: str = "alice",
        scheme: str = "cavage",
        tamper: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]] | None = None,
        now: datetime | None = None,
        key_id: str | None = None,
        private_pem: str | None = None,
    ) -> httpx.Response:
        """POST ``activity`` to ``inbox`` signed as ``name``; ``tamper`` may break it after."""
        actor = self.actors[name]
        body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
        headers = httpsig.sign_request(
            "POST",
            inbox,
            {"Content-Type": AP_JSON, "Accept": AP_JSON},
            body,
            key_id=key_id or actor.key_id,
            private_key=load_private_key(private_pem or actor.private_pem),
            now=now or datetime.now(UTC),
            scheme=scheme,  # type: ignore[arg-type]
        )
        if tamper is not None:
            headers, body = tamper(dict(headers), body)
        return await self.client.post(inbox, content=body, headers=headers)

    async def get(
        self, url: str, *, name: str | None = "alice", scheme: str = "cavage"
    ) -> httpx.Response:
        """GET ``url`` asking for ActivityStreams, signed as ``name`` (unsigned if None)."""
        headers = {"Accept": AP_JSON}
        if name is not None:
            actor = self.actors[name]
            headers = httpsig.sign_request(
                "GET",
                url,
                headers,
                None,
                key_id=actor.key_id,
                private_key=load_private_key(actor.private_pem),
                now=datetime.now(UTC),
                scheme=scheme,  # type: ignore[arg-type]
            )
        return await self.client.get(url, headers=headers)

    async def wait_for(
        self, predicate: Callable[[Received], bool], count: int = 1, timeout: float = 10.0
    ) -> list[Received]:
        """Wait until ``count`` received requests match ``predicate``; return them."""

        def matching() -> list[Received]:
            found = [r for r in self.received if predicate(r)]
            return found if len(found) >= count else []

        result: list[Received] = await wait_until(matching, timeout=timeout)
        return result

    def of_type(self, kind: str) -> list[Received]:
        return [r for r in self.received if r.type == kind]

    # -- routes -----------------------------------------------------------------------
    async def _webfinger(self, request: Request) -> Response:
        self.requests.append(("GET", request.url.path))
        resource = request.query_params.get("resource", "")
        user, _, domain = resource.removeprefix("acct:").partition("@")
        if domain != self.host or user not in self.actors:
            return Response(status_code=404)
        uri = self.actors[user].uri
        return JSONResponse(
            {
                "subject": f"acct:{user}@{self.host}",
                "aliases": [uri],
                "links": [
                    {"rel": "self", "type": AP_JSON, "href": uri},
                    {
                        "rel": "http://webfinger.net/rel/profile-page",
                        "type": "text/html",
                        "href": f"{self.base}/@{user}",
                    },
                ],
            },
            media_type="application/jrd+json",
        )

    async def _actor(self, request: Request) -> Response:
        self.requests.append(("GET", request.url.path))
        name = request.path_params["name"]
        if name not in self.actors:
            return Response(status_code=404)
        return Response(json.dumps(self.actor_document(name)), media_type=AP_JSON)

    async def _followers(self, request: Request) -> Response:
        self.requests.append(("GET", request.url.path))
        uri = f"{self.actors[request.path_params['name']].uri}/followers"
        return Response(
            json.dumps(
                {"@context": AS_CONTEXT, "id": uri, "type": "OrderedCollection", "totalItems": 0}
            ),
            media_type=AP_JSON,
        )

    async def _note(self, request: Request) -> Response:
        self.requests.append(("GET", request.url.path))
        note = self.notes.get(request.path_params["nid"])
        if note is None:
            return Response(status_code=404)
        return Response(json.dumps(note), media_type=AP_JSON)

    async def _file(self, request: Request) -> Response:
        self.requests.append(("GET", request.url.path))
        found = self.files.get(request.path_params["name"])
        if found is None:
            return Response(status_code=404)
        return Response(found[0], media_type=found[1])

    async def _inbox(self, request: Request) -> Response:
        path = request.url.path
        self.requests.append(("POST", path))
        body = await request.body()
        key = "shared" if path == "/inbox" else request.path_params.get("name", "")
        behaviours = self._behaviour.get(key) or self._behaviour.get("*") or [Status(202)]
        behaviour = behaviours.pop(0) if len(behaviours) > 1 else behaviours[0]
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified, error = await self._verify(request, body)
        status = behaviour.code if isinstance(behaviour, Status) else 202
        self.received.append(
            Received(path, headers, body, verified, error, status, datetime.now(UTC))
        )
        if isinstance(behaviour, Hang):
            await asyncio.sleep(behaviour.seconds)
            return Response(status_code=202)
        return Response(status_code=behaviour.code, headers=dict(behaviour.headers))

    async def _verify(self, request: Request, body: bytes) -> tuple[bool, str | None]:
        if not self.verify_signatures:
            return False, "not checked"
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            sig = httpsig.parse_request_signature(
                request.method,
                target,
                list(request.headers.items()),
                body,
                origin=self.base,
            )
            key_url = sig.key_id.split("#", 1)[0]
            response = await self.client.get(key_url, headers={"Accept": AP_JSON})
            response.raise_for_status()
            document = response.json()
            key = document.get("publicKey", document)
            if isinstance(key, list):
                key = next(k for k in key if k.get("id") == sig.key_id)
            httpsig.verify_request_signature(
                sig,
                load_public_key(key["publicKeyPem"]),
                now=datetime.now(UTC),
                max_skew=timedelta(hours=1),
                expected_host=self.host,
            )
            return True, None
        except Exception as exc:  # the test reads the class name
            return False, exc.__class__.__name__


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def host_of(url: str) -> str:
    return urlsplit(url).netloc
