"""Run one of ``bench.apps`` under uvicorn on a socket bound before start.

    python -m bench.serve fedi --port 0 --workers 2

Binds ``--host:--port`` (port 0: a free one), prints ``READY <port>`` on stdout, then serves
with uvloop and httptools as ``fedi-town serve`` does (no access log, no Server header,
proxy headers on). With ``--workers`` above 1, that many forked processes each serve on a
socket of their own bound with ``SO_REUSEPORT``, as ``fedi-town serve --workers`` does
(``fedi_town.supervisor``), so a ceiling spreads its connections the same way. SIGTERM to
the process group stops it.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from typing import Literal

import uvicorn

APPS: dict[str, tuple[str, Literal["on", "off"]]] = {
    "fedi": ("bench.apps:fedi", "on"),
    "bare-read": ("bench.apps:bare_read", "off"),
    "bare-asgi": ("bench.apps:bare_asgi", "off"),
    "bare-verify": ("bench.apps:bare_verify", "off"),
    "bare-inbox": ("bench.apps:bare_inbox", "off"),
}


def bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", choices=sorted(APPS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if not args.host.startswith("127."):
        parser.error("benchmarks listen on loopback only")
    target, lifespan = APPS[args.app]
    sock = bind(args.host, args.port, reuse_port=args.workers > 1)
    port = sock.getsockname()[1]
    sockets = [sock] + [bind(args.host, port, reuse_port=True) for _ in range(args.workers - 1)]
    print(f"READY {port}", flush=True)
    config = uvicorn.Config(
        target,
        factory=True,
        workers=args.workers,
        lifespan=lifespan,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        proxy_headers=True,
        server_header=False,
        backlog=2048,
        timeout_graceful_shutdown=5,
    )
    if args.workers > 1:
        return _forked(config, sockets)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _forked(config: uvicorn.Config, sockets: list[socket.socket]) -> int:
    """One forked process per socket; the parent waits for them (the SIGTERM sent to the
    process group reaches each)."""
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    children = []
    for mine in sockets:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            for other in sockets:
                if other is not mine:
                    other.close()
            uvicorn.Server(config).run(sockets=[mine])
            os._exit(0)
        children.append(pid)
    for other in sockets:
        other.close()
    for pid in children:
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
