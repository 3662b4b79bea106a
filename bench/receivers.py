"""Many remote servers in one process: inboxes listening on 127.0.1.1, 127.0.1.2, ... 127.0.4.250.

    python -m bench.receivers --hosts 1000 [--bad-every 10 --bad down|slow --hang 15]

Every host listens on the same port (chosen at start) and accepts POSTs to ``/inbox`` and
``/users/{name}/inbox`` with 202. A host is told apart by the local address a request came
in on. It records each (host, path, activity id) once and counts repeats; it does not
verify signatures (the benchmark measures the sender), but counts requests that carry one.

With ``--bad-every N``, every N-th host misbehaves: ``down`` hosts do not listen at all
(connections are refused), ``slow`` hosts hold each request ``--hang`` seconds before
answering (longer than fedi-town's 10 s read timeout, so the sender gives up); their requests are
only counted (``slow_requests``), never as deliveries.

A control socket on 127.0.0.1 answers ``GET /_stats`` (JSON) and ``POST /_reset``. The
first stdout line is ``READY {"control": port, "port": port}``.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import json
import socket
import sys
import time
from collections import Counter
from typing import Any

import uvicorn

Scope = dict[str, Any]


def host_ip(i: int) -> str:
    """The loopback address of remote server ``i`` (250 per /24, from 127.0.1.1)."""
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


def is_bad(i: int, every: int) -> bool:
    return every > 0 and i % every == every - 1


class Sink:
    """The ASGI app of every receiver: record, count, answer 202 (or hang first)."""

    def __init__(self, slow: set[str], hang: float) -> None:
        self.slow = slow
        self.hang = hang
        self.reset()

    def reset(self) -> None:
        self.seen: set[tuple[str, str, str]] = set()
        self.hosts: Counter[str] = Counter()
        self.duplicates = 0
        self.requests = 0
        self.slow_requests = 0
        self.signed = 0
        self.first: float | None = None
        self.last: float | None = None

    def stats(self) -> dict[str, Any]:
        return {
            "deliveries": len(self.seen),
            "hosts": len(self.hosts),
            "duplicates": self.duplicates,
            "requests": self.requests,
            "slow_requests": self.slow_requests,
            "signed": self.signed,
            "first": self.first,
            "last": self.last,
        }

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/_stats":
            await _answer(send, 200, json.dumps(self.stats()).encode())
            return
        if path == "/_reset":
            self.reset()
            await _answer(send, 204)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        host = scope["server"][0]
        if host in self.slow:  # counted apart: the sender has given up on it by now
            self.slow_requests += 1
            await asyncio.sleep(self.hang)
            await _answer(send, 202)
            return
        self.requests += 1
        if any(name == b"signature" for name, _ in scope["headers"]):
            self.signed += 1
        try:
            activity_id = str(json.loads(body).get("id"))
        except (ValueError, AttributeError):
            await _answer(send, 400)
            return
        key = (host, path, activity_id)
        if key in self.seen:
            self.duplicates += 1
        else:
            self.seen.add(key)
            self.hosts[host] += 1
            now = time.time()
            self.first = self.first or now
            self.last = now
        await _answer(send, 202)


async def _answer(send: Any, status: int, body: bytes = b"") -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _listen(ip: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((ip, port))
    sock.listen(1024)
    return sock


def bind_hosts(ips: list[str]) -> tuple[int, list[socket.socket]]:
    """Listen on every ip with one common port; try a few ports if one is taken somewhere."""
    for _ in range(20):
        first = _listen(ips[0], 0)
        port = first.getsockname()[1]
        sockets = [first]
        try:
            for ip in ips[1:]:
                sockets.append(_listen(ip, port))
        except OSError as exc:
            for sock in sockets:
                sock.close()
            if exc.errno != errno.EADDRINUSE:
                raise
            continue
        return port, sockets
    raise OSError("no port free on every receiver address")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, required=True)
    parser.add_argument("--bad-every", type=int, default=0)
    parser.add_argument("--bad", choices=["down", "slow"], default="down")
    parser.add_argument("--hang", type=float, default=15.0)
    args = parser.parse_args(argv)
    if not 0 < args.hosts <= 250 * 200:
        parser.error("--hosts must be between 1 and 50,000")
    ips = [host_ip(i) for i in range(args.hosts)]
    bad = {host_ip(i) for i in range(args.hosts) if is_bad(i, args.bad_every)}
    listening = [ip for ip in ips if not (args.bad == "down" and ip in bad)]
    port, sockets = bind_hosts(listening)
    control = _listen("127.0.0.1", 0)
    sink = Sink(bad if args.bad == "slow" else set(), args.hang)
    config = uvicorn.Config(
        sink,
        lifespan="off",
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        backlog=1024,
        timeout_graceful_shutdown=1,
    )
    print("READY " + json.dumps({"control": control.getsockname()[1], "port": port}), flush=True)
    uvicorn.Server(config).run(sockets=[control, *sockets])
    return 0


if __name__ == "__main__":
    sys.exit(main())
