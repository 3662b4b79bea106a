"""Soak: 50 simulated servers talk to one fedi-town for minutes while its owner posts.

    python -m bench.soak [--seconds 180] [--quick] [--postgres] [--out soak.json]

fedi-town runs exactly as users run it: the installed ``fedi-town migrate`` then
``fedi-town serve`` (``.venv/bin/fedi-town``), default settings except those a deployment
must set (base URL, port, a SQLite database in a temporary directory, or with
``--postgres`` a schema of its own in the shared PostgreSQL, admin token, key encryption
key) and ``FEDI_TOWN_ALLOW_PRIVATE_ADDRESSES=true``, because its peers live on loopback.
Its business is made through the admin API.

The 50 remote servers live in this process on 127.0.1.1, 127.0.1.2, ... (one port for all,
``bench.receivers``' addresses and ``Sink``). Each serves two actors (a main one and a
"churn" one, both with the host's shared inbox) and the notes it wrote. Each main actor
follows the business first (so fan-out goes to every server), then, until the end:

- every ``1 / RATE`` seconds, a signed activity to the business's inboxes, in turn Like,
  Announce, reply (Create{Note}), Undo{Like}, Undo{Announce}, and Follow / Undo{Follow} by
  the churn actor; a 429 or 503 is retried after its Retry-After, as Mastodon does, so
  every activity ends with one 202 (or is counted as not accepted);
- every ``1 / FETCH_RATE`` seconds, a signed GET (as Mastodon signs them) of the business's
  actor, its outbox, an outbox page, its latest post or its followers collection;
- it receives what fedi-town delivers: each owner post's Create, the Accepts of Follows.

A sixth into the load, one server sends Likes as fast as it can until the per-host limit
(default settings) has refused ``GREEDY_REFUSALS`` of them: the 429s are the intended
refusals, and it sends each again after its Retry-After until accepted. Meanwhile the
owner posts through the admin API every ``POST_EVERY`` seconds. Then the script stops
sending and waits (at most ``DRAIN_S``) until no inbox item and no delivery is pending and
every expected Create has arrived. It reports the requests by kind and status
(5xx must be 0; 429s are intended refusals), the server's RSS sampled every second (peak,
final, and "flat": the last third's max not above the first third's max by more than
``FLAT_MARGIN``), what the database holds (activities accepted vs stored vs handled, items
pending) and deliveries expected vs received per server (lost 0, duplicates counted), plus
any ERROR line or traceback in the server's log.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import secrets
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography.fernet import Fernet

from bench import report, seed
from bench.machine import RssSampler, describe, load_average, memory_mb
from bench.receivers import Sink, bind_hosts, host_ip
from bench.report import Figure
from bench.servers import ROOT, Process, free_port
from fedi_town.protocol import httpsig
from fedi_town.protocol.keys import PrivateKey, generate_rsa_keypair, load_private_key
from fedi_town.services import Services
from fedi_town.settings import Settings
from fedi_town.store import queue as q

SERVERS = 50
#: activities per second each server sends to the business's inboxes
RATE = 0.5
#: signed GETs per second each server makes
FETCH_RATE = 0.5
POST_EVERY = 5.0
DRAIN_S = 90.0
#: A sixth into the load (so that its burst falls in the first third of the memory samples,
#: and the last third shows whether memory came back down), one server sends Likes as fast
#: as ``GREEDY_CONNECTIONS`` connections allow, until the per-host limit (default
#: FEDI_TOWN_INBOX_HOST_BURST 2,000, then INBOX_HOST_RATE 50/s) has refused
#: ``GREEDY_REFUSALS`` of them with 429 (the intended refusals), or it has sent
#: ``GREEDY_MAX``; each refused Like is sent again after its Retry-After until accepted.
GREEDY_MAX = 8_000
GREEDY_REFUSALS = 100
GREEDY_CONNECTIONS = 16
#: a post whose fan-out to every server took longer than this is counted as slow
SLOW_FANOUT_S = 10.0
#: "flat": the last third's max RSS may exceed the first third's max by this much
FLAT_MARGIN = 0.10
FLAT_MIN_MB = 10.0
#: deploy/fedi-town.service's MemoryMax when it cannot be read from there
MEMORY_MAX_MB = 400.0
UNIT = ROOT / "deploy" / "fedi-town.service"
#: distinct RSA keys shared out among the actors (verifying costs the same with any)
KEYS = 8
#: Clients drop an idle connection before the server does (uvicorn's keep-alive timeout is
#: 5 s): reusing one at the moment the server closes it is a ReadError for a POST, which a
#: client must not blindly retry. With httpx's default (also 5 s) the owner, who posts
#: every 5 s, met that race twice in a 3-minute run.
LIMITS = httpx.Limits(keepalive_expiry=4.0)
FEDI_TOWN = ROOT / ".venv" / "bin" / "fedi-town"
ADMIN_TOKEN = "soak-admin-token-0123456789abcdef"
AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS}#Public"
AP_JSON = "application/activity+json"
_ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b|^Traceback")
_WARNING_LINE = re.compile(r"\bWARNING\b")
#: fedi-town's decision log line for each delivery attempt (fedi_town/remote/http.py)
_ATTEMPT = re.compile(r"fedi_town\.remote\.http: delivery to \S+: (\S+)")


# -- the remote servers ---------------------------------------------------------------------


@dataclass
class Peer:
    """One simulated remote server: its address, its two actors, what it wrote."""

    index: int
    ip: str
    port: int
    key: PrivateKey
    public_pem: str
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_like: dict[str, Any] | None = None
    last_announce: dict[str, Any] | None = None
    churn_follow: dict[str, Any] | None = None
    client: httpx.AsyncClient | None = None

    @property
    def base(self) -> str:
        return f"http://{self.ip}:{self.port}"

    def uri(self, name: str) -> str:
        return f"{self.base}/users/{name}"

    @property
    def main(self) -> str:
        return f"m{self.index}"

    @property
    def churn(self) -> str:
        return f"c{self.index}"

    def actor_document(self, name: str) -> dict[str, Any]:
        uri = self.uri(name)
        return {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": uri, "type": "Person", "preferredUsername": name, "name": name.upper(),
            "url": f"{self.base}/@{name}", "inbox": f"{uri}/inbox", "outbox": f"{uri}/outbox",
            "followers": f"{uri}/followers", "following": f"{uri}/following",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": self.public_pem},
        }  # fmt: skip

    def document(self, path: str) -> dict[str, Any] | None:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "users" and parts[1] in {self.main, self.churn}:
            return self.actor_document(parts[1])
        if len(parts) == 2 and parts[0] == "notes":
            return self.notes.get(parts[1])
        return None


class PeerSink(Sink):
    """``bench.receivers.Sink`` (records every delivery once, counts repeats) that also
    serves the peers' documents and notes which owner posts reached which server."""

    def __init__(self, peers: dict[str, Peer]) -> None:
        self.peers = peers
        super().__init__(set(), 0.0)

    def reset(self) -> None:
        super().reset()
        self.creates: dict[str, set[str]] = {}
        #: object id of each Create -> when it reached each server (first time)
        self.arrivals: dict[str, list[float]] = {}
        self.create_repeats: Counter[str] = Counter()
        self.accepts: set[str] = set()
        self.types: Counter[str] = Counter()
        self.gets: Counter[int] = Counter()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        host = scope["server"][0]
        if scope["method"] == "GET":
            peer = self.peers.get(host)
            doc = peer.document(scope["path"]) if peer else None
            status = 200 if doc is not None else 404
            self.gets[status] += 1
            await _answer(send, status, json.dumps(doc).encode() if doc else b"")
            return
        chunks: list[bytes] = []

        async def tee() -> Any:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        await super().__call__(scope, tee, send)
        self._note(host, b"".join(chunks))

    def _note(self, host: str, body: bytes) -> None:
        try:
            activity = json.loads(body)
            kind = str(activity.get("type"))
        except (ValueError, AttributeError):
            return
        self.types[kind] += 1
        inner = activity.get("object")
        inner_id = inner.get("id") if isinstance(inner, dict) else inner
        if kind == "Create" and isinstance(inner_id, str):
            got = self.creates.setdefault(host, set())
            if inner_id in got:
                self.create_repeats[host] += 1
            else:
                self.arrivals.setdefault(inner_id, []).append(time.time())
            got.add(inner_id)
        elif kind == "Accept" and isinstance(inner_id, str):
            self.accepts.add(inner_id)


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", AP_JSON.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- what was sent and answered ---------------------------------------------------------------


@dataclass
class Ledger:
    """Every request the soak made: statuses per kind, activities accepted, first failures."""

    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    accepted: dict[str, set[str]] = field(default_factory=dict)
    #: 429s per sending server (only the greedy one should get any)
    limited: Counter[str] = field(default_factory=Counter)
    refused: dict[str, int] = field(default_factory=dict)
    #: the first request of each (kind, status) that was neither a success nor a 429/503
    failures: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def note(self, kind: str, status: str, url: str = "", body: str = "") -> None:
        self.statuses.setdefault(kind, Counter())[status] += 1
        bad = not status.isdigit() or int(status) >= 500 or int(status) in {400, 401, 403, 404}
        if bad and (kind, status) not in self.failures:
            when = datetime.now(UTC).isoformat(timespec="seconds")
            self.failures[kind, status] = {
                "at": when,
                "kind": kind,
                "status": status,
                "url": url,
                "body": body[:300],
            }

    def count(self, predicate: Callable[[str], bool]) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if predicate(s))


def _is_5xx(status: str) -> bool:
    return status.isdigit() and int(status) >= 500


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(30.0, max(0.5, float(response.headers.get("retry-after", "1"))))
    except ValueError:
        return 1.0


async def send_activity(
    peer: Peer, ledger: Ledger, kind: str, url: str, activity: dict[str, Any], name: str,
    give_up_at: float,
) -> bool:  # fmt: skip
    """POST a signed activity until it gets a 202; 429/503 and transport errors retry."""
    assert peer.client is not None
    body = json.dumps(activity).encode()
    ledger.sent.add(activity["id"])
    loop = asyncio.get_running_loop()
    while True:
        headers = httpsig.sign_request(
            "POST", url,
            {"Content-Type": AP_JSON, "Accept": AP_JSON, "User-Agent": "Mastodon/4.3 (soak)"},
            body, key_id=f"{peer.uri(name)}#main-key", private_key=peer.key,
            now=datetime.now(UTC),
        )  # fmt: skip
        wait = 1.0
        try:
            response = await peer.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            ledger.note(kind, f"error:{exc.__class__.__name__}", url, str(exc))
        else:
            status = response.status_code
            ledger.note(kind, str(status), url, response.text if status != 202 else "")
            if status == 202:
                ledger.accepted.setdefault(kind, set()).add(activity["id"])
                return True
            if status == 429:
                ledger.limited[peer.ip] += 1
            if status not in {429, 503}:
                ledger.refused[kind] = ledger.refused.get(kind, 0) + 1
                return False
            wait = _retry_after(response)
        if loop.time() + wait > give_up_at:
            ledger.refused[kind] = ledger.refused.get(kind, 0) + 1
            return False
        await asyncio.sleep(wait)


async def signed_get(peer: Peer, ledger: Ledger, kind: str, url: str) -> None:
    assert peer.client is not None
    headers = httpsig.sign_request(
        "GET", url, {"Accept": AP_JSON, "User-Agent": "Mastodon/4.3 (soak)"}, None,
        key_id=f"{peer.uri(peer.main)}#main-key", private_key=peer.key, now=datetime.now(UTC),
    )  # fmt: skip
    try:
        response = await peer.client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        ledger.note(kind, f"error:{exc.__class__.__name__}", url, str(exc))
        return
    ledger.note(kind, str(response.status_code), url, response.text[:300])


# -- the activities ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The business as the peers see it."""

    base: str
    actor: str
    posts: list[str]

    @property
    def latest(self) -> str:
        return self.posts[-1]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def follow(peer: Peer, name: str, target: Target) -> dict[str, Any]:
    return {"@context": AS, "id": f"{peer.base}/{uuid.uuid4()}", "type": "Follow",
            "actor": peer.uri(name), "object": target.actor}  # fmt: skip


def undo(peer: Peer, name: str, inner: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in inner.items() if k != "@context"}
    return {"@context": AS, "id": f"{peer.uri(name)}#undo/{uuid.uuid4().hex}", "type": "Undo",
            "actor": peer.uri(name), "object": body}  # fmt: skip


def next_activity(peer: Peer, step: int, target: Target) -> tuple[str, str, dict[str, Any]]:
    """The ``step``-th activity of ``peer``: (kind, actor name, activity)."""
    me = peer.uri(peer.main)
    kind = ("Like", "Announce", "reply", "Undo Like", "Undo Announce", "churn")[step % 6]
    if kind == "Like":
        peer.last_like = {"@context": AS, "id": f"{me}#likes/{uuid.uuid4().hex}",
                          "type": "Like", "actor": me, "object": target.latest}  # fmt: skip
        return kind, peer.main, peer.last_like
    if kind == "Announce":
        peer.last_announce = {
            "@context": AS, "id": f"{me}/statuses/{uuid.uuid4().hex}/activity",
            "type": "Announce", "actor": me, "published": _now(), "to": [PUBLIC],
            "cc": [target.actor, f"{me}/followers"], "object": target.latest,
        }  # fmt: skip
        return kind, peer.main, peer.last_announce
    if kind == "reply":
        nid = uuid.uuid4().hex
        note = {
            "@context": AS, "id": f"{peer.base}/notes/{nid}", "type": "Note",
            "attributedTo": me, "content": f"<p>See you on Saturday! ({step})</p>",
            "published": _now(), "inReplyTo": target.latest, "to": [PUBLIC],
            "cc": [f"{me}/followers", target.actor],
            "tag": [{"type": "Mention", "href": target.actor, "name": "@bakery"}],
        }  # fmt: skip
        peer.notes[nid] = note
        inner = {k: v for k, v in note.items() if k != "@context"}
        return kind, peer.main, {
            "@context": AS, "id": f"{note['id']}/activity", "type": "Create", "actor": me,
            "published": note["published"], "to": note["to"], "cc": note["cc"], "object": inner,
        }  # fmt: skip
    if kind == "Undo Like" and peer.last_like:
        return kind, peer.main, undo(peer, peer.main, peer.last_like)
    if kind == "Undo Announce" and peer.last_announce:
        return kind, peer.main, undo(peer, peer.main, peer.last_announce)
    if peer.churn_follow is None:
        peer.churn_follow = follow(peer, peer.churn, target)
        return "Follow", peer.churn, peer.churn_follow
    done, peer.churn_follow = peer.churn_follow, None
    return "Undo Follow", peer.churn, undo(peer, peer.churn, done)


FETCHES: tuple[tuple[str, Callable[[Target], str]], ...] = (
    ("GET actor", lambda t: t.actor),
    ("GET outbox", lambda t: f"{t.actor}/outbox"),
    ("GET outbox page", lambda t: f"{t.actor}/outbox?page=1"),  # its ``first`` link
    ("GET post", lambda t: t.latest),
    ("GET followers", lambda t: f"{t.actor}/followers"),
)


async def _steady(
    period: float, offset: float, until: float, step: Callable[[int], Awaitable[None]]
) -> None:
    """Call ``step(n)`` every ``period`` seconds (first after ``offset``) until ``until``;
    a slow step delays the next one rather than piling up."""
    loop = asyncio.get_running_loop()
    next_at = loop.time() + offset
    for n in itertools.count():
        await asyncio.sleep(max(0.0, next_at - loop.time()))
        if loop.time() >= until:
            return
        await step(n)
        next_at = max(next_at + period, loop.time())


async def greedy_burst(
    peer: Peer, ledger: Ledger, target: Target, most: int, until: float, give_up: float
) -> int:
    """Send Likes from ``peer`` over ``GREEDY_CONNECTIONS`` connections until the per-host
    limit has refused ``GREEDY_REFUSALS`` of them, ``most`` are sent, or ``until``; each is
    sent again after a 429's Retry-After (``send_activity``). Returns how many were sent."""
    loop = asyncio.get_running_loop()
    me = peer.uri(peer.main)
    gate = asyncio.Semaphore(GREEDY_CONNECTIONS)

    async def one(i: int) -> None:
        like = {"@context": AS, "id": f"{me}#greedy/{i}", "type": "Like", "actor": me,
                "object": target.latest}  # fmt: skip
        try:
            await send_activity(
                peer, ledger, "greedy Like", f"{target.base}/inbox", like, peer.main, give_up
            )
        finally:
            gate.release()

    def refused() -> int:
        return ledger.statuses.get("greedy Like", Counter()).get("429", 0)

    sending: list[asyncio.Task[None]] = []
    while len(sending) < most and refused() < GREEDY_REFUSALS:
        await gate.acquire()
        if loop.time() >= until:
            gate.release()
            break
        sending.append(asyncio.create_task(one(len(sending))))
    await asyncio.gather(*sending)
    return len(sending)


async def drain(
    services: Services, sink: PeerSink, expected: set[str], hosts: list[str], deadline: float
) -> list[dict[str, Any]]:
    """Wait (until the loop time ``deadline``) for no inbox item and no delivery pending and
    every expected Create at every host; return what was left each time it changed."""
    loop = asyncio.get_running_loop()
    started = time.time()
    trace: list[dict[str, Any]] = []
    while loop.time() < deadline:
        queues = await _queues(services)
        now = {
            "inbox_pending": queues["inbox"].get("pending", 0),
            "deliveries_pending": queues["deliveries"].get("pending", 0),
            "creates_missing": sum(len(expected - sink.creates.get(h, set())) for h in hosts),
        }
        if not trace or {k: v for k, v in trace[-1].items() if k != "s"} != now:
            trace.append({"s": round(time.time() - started, 1), **now})
        if not any(now.values()):
            break
        await asyncio.sleep(1.0)
    return trace


# -- fedi-town, as users run it ---------------------------------------------------------------


def server_env(database_url: str, port: int, fernet_key: str) -> dict[str, str]:
    """What a deployment must set, and nothing else (loopback peers need private addresses)."""
    return {
        "FEDI_TOWN_BASE_URL": f"http://127.0.0.1:{port}",
        "FEDI_TOWN_PORT": str(port),
        "FEDI_TOWN_DATABASE_URL": database_url,
        "FEDI_TOWN_ADMIN_TOKEN": ADMIN_TOKEN,
        "FEDI_TOWN_ALLOW_PRIVATE_ADDRESSES": "true",
        "FEDI_TOWN_KEY_ENCRYPTION_KEYS": fernet_key,
    }


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}
    return {**env, **extra}


def start_fedi_town(data: Path, env: dict[str, str], timeout: float = 60.0) -> Process:
    """``fedi-town migrate`` then ``fedi-town serve`` in ``data`` (its working directory, so
    the default ``data/media`` lands there); ready when NodeInfo answers 200."""
    subprocess.run(
        [str(FEDI_TOWN), "migrate"], cwd=data, env=_child_env(env), check=True,
        capture_output=True, timeout=120,
    )  # fmt: skip
    log_path = data / "fedi-town.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            [str(FEDI_TOWN), "serve"], cwd=data, env=_child_env(env), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    process = Process("fedi-town", popen, "", log_path)
    base = env["FEDI_TOWN_BASE_URL"]
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=5, trust_env=False) as client:
        while time.monotonic() < deadline and popen.poll() is None:
            try:
                if client.get("/.well-known/nodeinfo").status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    process.stop()
    raise RuntimeError(f"fedi-town serve did not start:\n{process.log()[-3000:]}")


async def _queues(services: Services) -> dict[str, dict[str, int]]:
    return {
        "inbox": await q.counts(services.store, q.INBOX),
        "deliveries": await q.counts(services.store, q.DELIVERIES),
    }


def memory_max_mb(unit: Path = UNIT) -> float:
    """The service unit's ``MemoryMax=`` in MB (the limit memory must stay under)."""
    try:
        found = re.search(r"^MemoryMax=(\d+)([KMGT]?)\s*$", unit.read_text(), re.MULTILINE)
    except OSError:
        found = None
    if found is None:
        return MEMORY_MAX_MB
    scale = {"": 1 / 1024 / 1024, "K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}
    return int(found.group(1)) * scale[found.group(2)]


def log_findings(text: str, limit: int = 20) -> tuple[int, list[str]]:
    """How many ERROR/CRITICAL lines and tracebacks the server logged, and the first few."""
    found = [line for line in text.splitlines() if _ERROR_LINE.search(line)]
    return len(found), found[:limit]


def fanout_times(
    posted_at: dict[str, float], arrivals: dict[str, list[float]], servers: int
) -> dict[str, Any]:
    """Per owner post, the seconds from its 201 until every server had its Create: the
    median and the slowest, and how many posts took longer than ``SLOW_FANOUT_S``."""
    times = sorted(
        max(arrivals[uri]) - at
        for uri, at in posted_at.items()
        if len(arrivals.get(uri, [])) >= servers
    )
    if not times:
        return {"posts": 0, "median_s": None, "max_s": None, "slow": 0}
    return {
        "posts": len(times),
        "median_s": round(times[len(times) // 2], 2),
        "max_s": round(times[-1], 2),
        "slow": sum(1 for t in times if t > SLOW_FANOUT_S),
        "slow_over_s": SLOW_FANOUT_S,
    }


def flatness(samples: list[float]) -> dict[str, Any]:
    """First and last thirds' maxima of RSS samples, and whether memory stayed flat."""
    if len(samples) < 3:
        return {"first_third_max_mb": None, "last_third_max_mb": None, "flat": None}
    third = len(samples) // 3
    first, last = max(samples[:third]), max(samples[-third:])
    margin = max(FLAT_MIN_MB, first * FLAT_MARGIN)
    return {
        "first_third_max_mb": round(first, 1),
        "last_third_max_mb": round(last, 1),
        "margin_mb": round(margin, 1),
        "flat": last <= first + margin,
    }


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Soak:
    seconds: float
    servers: int = SERVERS
    rate: float = RATE
    fetch_rate: float = FETCH_RATE
    post_every: float = POST_EVERY
    drain_s: float = DRAIN_S
    greedy: int = GREEDY_MAX
    #: how long the simulated servers keep an idle connection open (uvicorn's default)
    peer_keep_alive: int = 5


async def _run(soak: Soak, data: Path, database_url: str, keep_log: Path | None) -> dict[str, Any]:
    pairs = [generate_rsa_keypair() for _ in range(KEYS)]
    ips = [host_ip(i) for i in range(soak.servers)]
    peer_port, sockets = bind_hosts(ips)
    peers = {
        ip: Peer(i, ip, peer_port, load_private_key(pairs[i % KEYS][0]), pairs[i % KEYS][1])
        for i, ip in enumerate(ips)
    }
    sink = PeerSink(peers)
    config = uvicorn.Config(
        sink, lifespan="off", log_level="warning", access_log=False,
        timeout_keep_alive=soak.peer_keep_alive,
    )  # fmt: skip
    peer_server = uvicorn.Server(config)
    serving = asyncio.create_task(peer_server.serve(sockets=sockets))
    port = free_port()
    env = server_env(database_url, port, Fernet.generate_key().decode())
    fedi = await asyncio.to_thread(start_fedi_town, data, env)
    services = Services.from_settings(Settings.from_env(env))
    await services.store.connect()
    ledger = Ledger()
    admin = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=60, trust_env=False, limits=LIMITS
    )
    for peer in peers.values():
        transport = httpx.AsyncHTTPTransport(local_address=peer.ip, limits=LIMITS)
        peer.client = httpx.AsyncClient(transport=transport, timeout=30, trust_env=False)
    sampler = RssSampler(fedi.pid, interval=1.0)
    loop = asyncio.get_running_loop()
    result: dict[str, Any] = {}
    try:
        made = await admin.post(
            "/api/v1/businesses",
            json={"username": "bakery", "display_name": "Corner Bakery"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        made.raise_for_status()
        owner = {"Authorization": f"Bearer {made.json()['owner_token']}"}
        base = f"http://127.0.0.1:{port}"
        target = Target(base, f"{base}/users/bakery", [])
        posted_at: dict[str, float] = {}

        async def owner_post(n: int) -> None:
            text = f"Cinnamon buns are back! Batch {n} is out of the oven. #bakery"
            try:
                answer = await admin.post(
                    "/api/v1/businesses/bakery/posts", json={"content": text}, headers=owner
                )
            except httpx.HTTPError as exc:
                ledger.note("owner post", f"error:{exc.__class__.__name__}", "", str(exc))
                return
            ledger.note("owner post", str(answer.status_code), "", answer.text[:300])
            if answer.status_code == 201:
                target.posts.append(answer.json()["uri"])
                posted_at[target.posts[-1]] = time.time()

        # Every main actor follows first, so every server is owed every post that follows.
        setup_until = loop.time() + 120
        inbox = f"{base}/users/bakery/inbox"
        follows = [follow(p, p.main, target) for p in peers.values()]
        await asyncio.gather(
            *(
                send_activity(p, ledger, "Follow", inbox, f, p.main, setup_until)
                for p, f in zip(peers.values(), follows, strict=True)
            )
        )
        wanted = {f["id"] for f in follows}
        while not wanted <= sink.accepts and loop.time() < setup_until:  # noqa: ASYNC110
            await asyncio.sleep(0.2)  # the Accepts arrive on the peers' server, polled
        result["followers_accepted_at_start"] = len(wanted & sink.accepts)
        await owner_post(0)
        if not target.posts:
            raise RuntimeError(f"the owner could not post: {list(ledger.failures.values())}")
        # The clock starts here.
        started = time.time()
        with sampler:
            until = loop.time() + soak.seconds
            give_up = until + soak.drain_s / 2

            def sender(peer: Peer) -> Callable[[int], Awaitable[None]]:
                async def step(n: int) -> None:
                    kind, name, activity = next_activity(peer, n, target)
                    path = "/users/bakery/inbox" if kind == "Like" else "/inbox"
                    await send_activity(peer, ledger, kind, base + path, activity, name, give_up)

                return step

            def fetcher(peer: Peer) -> Callable[[int], Awaitable[None]]:
                async def step(n: int) -> None:
                    kind, url = FETCHES[(n + peer.index) % len(FETCHES)]
                    await signed_get(peer, ledger, kind, url(target))

                return step

            async def greedy() -> None:
                await asyncio.sleep(soak.seconds / 6)
                peer = next(iter(peers.values()))
                sent = await greedy_burst(peer, ledger, target, soak.greedy, until, give_up)
                result["greedy_sent"] = sent

            tasks = [_steady(soak.post_every, soak.post_every, until, owner_post), greedy()]
            for peer in peers.values():
                spread = peer.index / soak.servers
                tasks.append(_steady(1 / soak.rate, spread / soak.rate, until, sender(peer)))
                tasks.append(
                    _steady(1 / soak.fetch_rate, spread / soak.fetch_rate, until, fetcher(peer))
                )
            await asyncio.gather(*tasks)
            load_s = time.time() - started
            load_samples = len(sampler.samples)
            drain_started = time.time()
            result["drain_trace"] = await drain(
                services, sink, set(target.posts), list(peers), until + soak.drain_s
            )
            drain_s = time.time() - drain_started
        queues = await _queues(services)
        final_mb = memory_mb(fedi.pid)[0]
        business = await admin.get("/api/v1/businesses/bakery", headers=owner)
        result["owner_posts_stored"] = business.json().get("posts_count")
        result["owner_posts_answered_201"] = len(target.posts)
        result["fanout"] = fanout_times(posted_at, sink.arrivals, len(peers))
        result.update(
            _summary(soak, ledger, sink, peers, target, queues, sampler.samples[:load_samples])
        )
        result["load_seconds"] = round(load_s, 1)
        result["drain_seconds"] = round(drain_s, 1)
        result["memory"]["final_mb"] = round(final_mb, 1)
        result["memory"]["peak_mb"] = round(max([*sampler.samples, final_mb]), 1)
    finally:
        await admin.aclose()
        for peer in peers.values():
            if peer.client is not None:
                await peer.client.aclose()
        await services.store.disconnect()
        await asyncio.to_thread(fedi.stop)
        peer_server.should_exit = True
        await serving
    text = fedi.log()
    count, lines = log_findings(text)
    warnings = [line for line in text.splitlines() if _WARNING_LINE.search(line)]
    result["server_log"] = {
        "error_lines": count, "first": lines, "warning_lines": len(warnings),
        "first_warnings": warnings[:20], "lines": text.count("\n"),
        "delivery_attempts": dict(Counter(m.group(1) for m in _ATTEMPT.finditer(text))),
    }  # fmt: skip
    if keep_log is not None:
        await asyncio.to_thread(keep_log.write_text, text)
    return result


def _summary(
    soak: Soak, ledger: Ledger, sink: PeerSink, peers: dict[str, Peer], target: Target,
    queues: dict[str, dict[str, int]], samples: list[float],
) -> dict[str, Any]:  # fmt: skip
    expected = set(target.posts)
    per_server = {}
    for ip in peers:
        got = sink.creates.get(ip, set())
        per_server[ip] = {
            "expected": len(expected),
            "received": len(expected & got),
            "lost": len(expected - got),
            "duplicates": sink.create_repeats.get(ip, 0),
        }
    accepted = sum(len(ids) for ids in ledger.accepted.values())
    inbox = queues["inbox"]
    stored = sum(inbox.values())
    follows = ledger.accepted.get("Follow", set())
    memory = {"samples": len(samples), "limit_mb": memory_max_mb(), **flatness(samples)}
    return {
        "servers": soak.servers,
        "rates": {
            "greedy_max": soak.greedy,
            "activities_per_server_s": soak.rate,
            "gets_per_server_s": soak.fetch_rate,
            "owner_post_every_s": soak.post_every,
            "peer_keep_alive_s": soak.peer_keep_alive,
        },
        "requests": {kind: dict(sorted(c.items())) for kind, c in sorted(ledger.statuses.items())},
        "requests_total": ledger.count(lambda s: True),
        "status_5xx": ledger.count(_is_5xx),
        "status_429": ledger.count(lambda s: s == "429"),
        "status_429_by_server": dict(ledger.limited),
        "greedy_server": next(iter(peers)),
        "transport_errors": ledger.count(lambda s: not s.isdigit()),
        "not_accepted": dict(ledger.refused),
        "failures": list(ledger.failures.values()),
        "memory": memory,
        "activities": {
            "sent": len(ledger.sent),
            "accepted": accepted,
            "stored": stored,
            "handled": inbox.get("done", 0),
            "failed": inbox.get("failed", 0),
            "pending_after_drain": inbox.get("pending", 0),
            "unaccounted": accepted - stored,
        },
        "deliveries": {
            "posts": len(expected),
            "expected": len(expected) * len(peers),
            "received": sum(s["received"] for s in per_server.values()),
            "lost": sum(s["lost"] for s in per_server.values()),
            "duplicates": sink.duplicates,
            "create_duplicates": sum(sink.create_repeats.values()),
            "accepts_expected": len(follows),
            "accepts_received": len(follows & sink.accepts),
            "by_type": dict(sink.types),
            "queue": queues["deliveries"],
            "pending_after_drain": queues["deliveries"].get("pending", 0),
            "per_server": per_server,
        },
        "peer_documents_served": {str(k): v for k, v in sink.gets.items()},
    }


def verdicts(result: dict[str, Any]) -> dict[str, bool]:
    """Each promise the soak checks, kept or not."""
    memory, acts, dels = result["memory"], result["activities"], result["deliveries"]
    return {
        "no 5xx": result["status_5xx"] == 0,
        "no transport errors": result["transport_errors"] == 0,
        "every activity accepted in the end": not any(result["not_accepted"].values()),
        "429 only for the greedy server": set(result["status_429_by_server"])
        <= {result["greedy_server"]},
        "memory under MemoryMax": memory["peak_mb"] < memory["limit_mb"],
        "memory flat": bool(memory.get("flat")),
        "inbox drained": acts["pending_after_drain"] == 0,
        "deliveries drained": dels["pending_after_drain"] == 0,
        "every 202 stored": acts["unaccounted"] == 0,
        "every stored item handled": acts["handled"] == acts["stored"],
        "no delivery lost": dels["lost"] == 0,
        "every Follow accepted": dels["accepts_received"] == dels["accepts_expected"],
        "every owner post answered": result["owner_posts_stored"]
        == result["owner_posts_answered_201"],
        "server logged no error": result["server_log"]["error_lines"] == 0,
    }


def figures(result: dict[str, Any]) -> list[Figure]:
    """The soak's rows for ``run_all``'s table."""
    memory, acts, dels = result["memory"], result["activities"], result["deliveries"]
    fan = result["fanout"]
    ok = result["verdicts"]
    s = "soak"
    return [
        Figure(s, f"requests in {result['load_seconds']:.0f} s from {result['servers']} servers",
               result["requests_total"], "requests",
               detail=f"{result['requests_total'] / result['load_seconds']:.0f}/s"),
        Figure(s, "5xx answers", result["status_5xx"], "", None, "0", ok["no 5xx"]),
        Figure(s, "429 answers (intended refusals, retried)", result["status_429"], ""),
        Figure(s, "transport errors", result["transport_errors"], "", None, "0",
               ok["no transport errors"]),
        Figure(s, "RSS peak", memory["peak_mb"], "MB", None, f"< {memory['limit_mb']:.0f} MB",
               ok["memory under MemoryMax"], f"final {memory['final_mb']:.0f} MB"),
        Figure(s, "RSS, last third's max over first third's", (memory["last_third_max_mb"] or 0)
               - (memory["first_third_max_mb"] or 0), "MB", None,
               f"<= {memory.get('margin_mb', FLAT_MIN_MB):.0f} MB", ok["memory flat"]),
        Figure(s, "inbox items pending after drain", acts["pending_after_drain"], "", None, "0",
               ok["inbox drained"], f"drain {result['drain_seconds']:.0f} s"),
        Figure(s, "activities accepted (202) but not stored", acts["unaccounted"], "", None,
               "0", ok["every 202 stored"],
               f"{acts['accepted']} accepted, {acts['stored']} stored, {acts['handled']} handled,"
               f" {acts['failed']} failed"),
        Figure(s, "deliveries lost", dels["lost"], "", None, "0", ok["no delivery lost"],
               f"{dels['received']}/{dels['expected']} Creates of {dels['posts']} posts"),
        Figure(s, "duplicate deliveries", dels["duplicates"], "", detail="counted, not a target"),
        Figure(s, "post to all servers, median", fan["median_s"] or 0, "s",
               detail=f"slowest {fan['max_s']} s; {fan['slow']} of {fan['posts']} posts over "
               f"{SLOW_FANOUT_S:.0f} s"),
    ]  # fmt: skip


def print_report(result: dict[str, Any]) -> None:
    print(f"\nsoak on {result['database']}: {result['servers']} servers, "
          f"{result['load_seconds']:.0f} s of load, "
          f"drain {result['drain_seconds']:.0f} s")  # fmt: skip
    print("requests by kind and status:")
    for kind, statuses in result["requests"].items():
        shown = ", ".join(f"{s} x{n}" for s, n in statuses.items())
        print(f"  {kind:<16} {shown}")
    print(f"5xx: {result['status_5xx']}   429 (intended): {result['status_429']}   "
          f"transport errors: {result['transport_errors']}")  # fmt: skip
    m = result["memory"]
    print(
        f"RSS: peak {m['peak_mb']} MB, final {m['final_mb']} MB, first third max "
        f"{m['first_third_max_mb']} MB, last third max {m['last_third_max_mb']} MB "
        f"(flat: {m['flat']}, margin {m.get('margin_mb')} MB; limit {m['limit_mb']:.0f} MB)"
    )
    a = result["activities"]
    print(
        f"activities: sent {a['sent']}, accepted {a['accepted']}, stored {a['stored']}, "
        f"handled {a['handled']}, failed {a['failed']}, "
        f"pending after drain {a['pending_after_drain']}"
    )
    d = result["deliveries"]
    print(
        f"deliveries: {d['posts']} posts x {result['servers']} servers: expected "
        f"{d['expected']}, received {d['received']}, lost {d['lost']}, duplicates "
        f"{d['duplicates']}; Accepts {d['accepts_received']}/{d['accepts_expected']}; "
        f"queue {d['queue']}"
    )
    short = {ip: s for ip, s in d["per_server"].items() if s["lost"] or s["duplicates"]}
    for ip, s in short.items():
        print(f"  {ip}: received {s['received']}/{s['expected']}, duplicates {s['duplicates']}")
    fan = result["fanout"]
    print(f"owner posts: {result['owner_posts_answered_201']} answered 201, "
          f"{result['owner_posts_stored']} stored; from 201 to every server: median "
          f"{fan['median_s']} s, slowest {fan['max_s']} s, {fan['slow']} over "
          f"{SLOW_FANOUT_S:.0f} s")  # fmt: skip
    log = result["server_log"]
    print(f"server log: {log['lines']} lines, {log['error_lines']} ERROR lines or tracebacks, "
          f"{log['warning_lines']} WARNING lines; delivery attempts by outcome "
          f"{log['delivery_attempts']}")  # fmt: skip
    for line in log["first"] + log["first_warnings"][:5]:
        print(f"  {line}")
    if len(result.get("drain_trace", [])) > 1:
        print(f"drain: {result['drain_trace']}")
    for failure in result["failures"]:
        print(f"  first {failure['kind']} answered {failure['status']}: {failure}")
    for name, kept in result["verdicts"].items():
        print(f"  {'ok  ' if kept else 'FAIL'} {name}")


def run(
    seconds: float,
    quick: bool,
    keep_log: Path | None = None,
    postgres: bool = False,
    peer_keep_alive: int = 5,
) -> dict[str, Any]:
    soak = Soak(seconds=seconds, post_every=3.0 if quick else POST_EVERY,
                drain_s=60.0 if quick else DRAIN_S, peer_keep_alive=peer_keep_alive)  # fmt: skip
    load_before = load_average()
    began = time.time()
    with tempfile.TemporaryDirectory(prefix="fedi-soak-") as tmp:
        database_url = seed.sqlite_url(Path(tmp), "fedi-town.sqlite3")
        if postgres:
            database_url = seed.postgres_url(f"soak_{secrets.token_hex(4)}")
        try:
            result = asyncio.run(_run(soak, Path(tmp), database_url, keep_log))
        finally:
            asyncio.run(seed.drop_schema(database_url))
    result["database"] = "PostgreSQL" if postgres else "SQLite"
    result["verdicts"] = verdicts(result)
    result["ok"] = all(result["verdicts"].values())
    result["quick"] = quick
    result["started"] = datetime.fromtimestamp(began, UTC).isoformat(timespec="seconds")
    result["wall_seconds"] = round(time.time() - began, 1)
    result["machine"] = describe()
    result["load_average_before"] = round(load_before, 2)
    result["load_average_after"] = round(load_average(), 2)
    return result


def main() -> int:
    parser = report.arguments(__doc__)
    parser.add_argument("--seconds", type=float, default=180.0, help="length of the load")
    parser.add_argument("--out", type=Path, help="write the whole result here as JSON")
    parser.add_argument("--server-log", type=Path, help="keep fedi-town's log (stderr) here")
    parser.add_argument(
        "--peer-keep-alive", type=int, default=5,
        help="seconds the simulated servers keep an idle connection (uvicorn's 5 by default)",
    )  # fmt: skip
    parser.add_argument(
        "--postgres", action="store_true", help=f"a schema of its own in {seed.POSTGRES_URL}"
    )
    args = parser.parse_args()
    seconds = 30.0 if args.quick and args.seconds == 180.0 else args.seconds
    result = run(seconds, args.quick, args.server_log, args.postgres, args.peer_keep_alive)
    print_report(result)
    found = figures(result)
    notes = [
        f"{result['database']}; {result['servers']} servers x {RATE}/s activities + "
        f"{FETCH_RATE}/s signed GETs, "
        f"owner posts every {result['rates']['owner_post_every_s']:.0f} s; 1-minute load "
        f"average {result['load_average_before']} before, {result['load_average_after']} after"
    ]
    result["figures"] = [f.__dict__ for f in found]
    result["notes"] = notes
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))
    report.finish(found, notes, args.json)
    # Like every benchmark, 0 unless it crashed: a broken promise shows as MISSED above.
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
