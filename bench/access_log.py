"""What a line per request costs: ``fedi-town serve`` (SQLite, as a user runs it) answering
one cached GET as fast as it can, with the access log off, on in plain lines, and on in
JSON lines written to a file (as journald or a log file takes them).

    python -m bench.access_log [--seconds 8] [--connections 32]

Prints requests per second and p50/p99 latency per variant; docs/operations.md (Logs)
describes the access log, and ``bench.read_path`` measures its cost beside each round.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import BinaryIO

import httpx

from bench.loadgen import get_load
from bench.servers import free_port

FEDI_TOWN = Path(sys.executable).with_name("fedi-town")
PATH = "/.well-known/nodeinfo"  # kept in the read cache: the fast path answers it
VARIANTS = {
    "access log off (default)": {},
    "access log on, plain": {"FEDI_TOWN_ACCESS_LOG": "on"},
    "access log on, json": {"FEDI_TOWN_ACCESS_LOG": "on", "FEDI_TOWN_LOG_FORMAT": "json"},
}


def serve(tmp: Path, port: int, extra: dict[str, str], log: BinaryIO) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}
    env.update(
        FEDI_TOWN_BASE_URL=f"http://127.0.0.1:{port}",
        FEDI_TOWN_PORT=str(port),
        FEDI_TOWN_DATABASE_URL=f"sqlite:///{tmp / 'fedi.sqlite3'}",
        FEDI_TOWN_ADMIN_TOKEN="a" * 32,
        FEDI_TOWN_KEY_ENCRYPTION_KEYS="ZmVkaS10b3duLWJlbmNoLWtleS0zMi1ieXRlcy0hISE=",
        FEDI_TOWN_MEDIA_DIR=str(tmp / "media"),
        **extra,
    )
    process = subprocess.Popen([str(FEDI_TOWN), "serve"], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}{PATH}", timeout=2)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("fedi-town serve did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    for name, extra in VARIANTS.items():
        with tempfile.TemporaryDirectory() as where:
            tmp = Path(where)
            port = free_port()
            with open(tmp / "serve.log", "ab") as log:
                process = serve(tmp, port, extra, log)
            try:
                get_load("127.0.0.1", port, PATH, headers={}, connections=8, seconds=1.0)
                result = get_load(
                    "127.0.0.1", port, PATH, headers={},
                    connections=args.connections, seconds=args.seconds,
                )  # fmt: skip
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
            logged = (tmp / "serve.log").stat().st_size
        rate = result.requests / result.seconds
        print(
            f"{name:28} {rate:8.0f} req/s  p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms"
            f"  log {logged / max(result.requests, 1):.0f} B/request"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
