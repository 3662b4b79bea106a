"""Start and stop the processes a benchmark talks to: servers (``bench.serve``) and helpers.

``start_server("fedi", env=..., workers=2)`` runs ``python -m bench.serve`` from the
repository root, waits for its ``READY <port>`` line, then polls ``ready_path`` until it
answers 200 (the app's lifespan has finished). Each process runs in its own process group
and its stderr goes to a file that is shown if it fails to start. ``stop()`` sends SIGTERM
to the group and SIGKILL after ``timeout`` seconds.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


class StartFailed(Exception):
    """A benchmark process exited or stayed silent instead of getting ready."""


@dataclass
class Process:
    """A running helper process and what its READY line said."""

    name: str
    popen: subprocess.Popen[bytes]
    ready: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)
        except ProcessLookupError:
            pass
        finally:
            if self.popen.stdout is not None:
                self.popen.stdout.close()


@dataclass
class Server(Process):
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def start_process(
    name: str,
    argv: Sequence[str],
    *,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Process:
    """Run ``python argv...`` and wait for its first stdout line starting with READY."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            [sys.executable, *argv],
            cwd=ROOT,
            env=child_env(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
        )
    assert popen.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        readable, _, _ = select.select([popen.stdout], [], [], 0.1)
        if readable:
            line = popen.stdout.readline().decode().strip()
            if line.startswith("READY"):
                return Process(name, popen, line[len("READY") :].strip(), log_path)
            if not line and popen.poll() is not None:
                break
        elif popen.poll() is not None:
            break
    process = Process(name, popen, "", log_path)
    process.stop()
    raise StartFailed(f"{name} did not start:\n{process.log()[-3000:]}")


def start_server(
    app: str,
    *,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    port: int = 0,
    workers: int = 1,
    ready_path: str = "/_bench/ready",
    timeout: float = 60.0,
) -> Server:
    """Start ``bench.serve APP`` and wait until ``ready_path`` answers 200."""
    name = f"{app}-w{workers}"
    argv = ["-m", "bench.serve", app, "--port", str(port), "--workers", str(workers)]
    process = start_process(name, argv, log_dir=log_dir, env=env, timeout=timeout)
    server = Server(
        process.name, process.popen, process.ready, process.log_path, int(process.ready)
    )
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.base, timeout=5, trust_env=False) as client:
        while time.monotonic() < deadline:
            if server.popen.poll() is not None:
                break
            try:
                if client.get(ready_path).status_code == 200:
                    # With several workers, give the others a moment to finish their start.
                    time.sleep(0.5 if workers > 1 else 0.0)
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    server.stop()
    raise StartFailed(f"{name} never answered {ready_path}:\n{server.log()[-3000:]}")


@contextmanager
def running_server(app: str, **kwargs: Any) -> Iterator[Server]:
    server = start_server(app, **kwargs)
    try:
        yield server
    finally:
        server.stop()


def free_port() -> int:
    """A port free on 127.0.0.1 right now (bound and released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


#: The console script users run, from this interpreter's environment.
FEDI_TOWN = Path(sys.executable).with_name("fedi-town")


def start_fedi_town(
    *,
    env: Mapping[str, str],
    port: int,
    log_dir: Path,
    workers: int = 1,
    ready_path: str = "/.well-known/nodeinfo",
    name: str = "",
    timeout: float = 60.0,
) -> Server:
    """``fedi-town serve`` exactly as a user starts it (the installed console script, its
    defaults, ``FEDI_TOWN_*`` from ``env``), its stdout and stderr in ``log_dir`` (as
    journald would take them); ready once ``ready_path`` answers 200."""
    name = name or f"fedi-town-w{workers}"
    extra = {**env, "FEDI_TOWN_PORT": str(port)}
    argv = [str(FEDI_TOWN), "serve"] + (["--workers", str(workers)] if workers > 1 else [])
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        popen = subprocess.Popen(
            argv,
            cwd=log_dir,
            env=child_env(extra),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, popen, str(port), log_path, port)
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.base, timeout=5, trust_env=False) as client:
        while time.monotonic() < deadline:
            if popen.poll() is not None:
                break
            try:
                if client.get(ready_path).status_code == 200:
                    time.sleep(1.0 if workers > 1 else 0.0)  # the other children's start
                    return server
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    server.stop()
    raise StartFailed(f"{name} never answered {ready_path}:\n{server.log()[-3000:]}")
