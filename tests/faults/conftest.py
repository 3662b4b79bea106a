"""Helpers of the fault suite: real ``fedi-town serve`` processes, a private PostgreSQL
cluster that may be restarted, small file systems that fill up or turn read-only.

Faults are done for real (SIGKILL, a PostgreSQL restart, a full or read-only file system)
and each test counts what was lost and duplicated afterwards, recording it with
``tests.reliability.record("faults", ...)``. The shared PostgreSQL on 127.0.0.1:5432 is never
touched: restarts happen on a private cluster made here on a free port.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx
import pytest

from fedi_town.app import create_app
from fedi_town.services import Services, WorkerOptions
from tests.conftest import ADMIN_TOKEN, IN_CI, KEY_ENCRYPTION_KEY, make_settings
from tests.live import LiveInstance, bind_loopback, serve_app, wait_until

FEDI_TOWN = Path(sys.executable).with_name("fedi-town")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_env(database_url: str, tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    """The environment of a ``fedi-town serve`` on 127.0.0.1:``port``, as a user sets it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}
    env.update(
        FEDI_TOWN_BASE_URL=f"http://127.0.0.1:{port}",
        FEDI_TOWN_HOST="127.0.0.1",
        FEDI_TOWN_PORT=str(port),
        FEDI_TOWN_DATABASE_URL=database_url,
        FEDI_TOWN_ADMIN_TOKEN=ADMIN_TOKEN,
        FEDI_TOWN_KEY_ENCRYPTION_KEYS=KEY_ENCRYPTION_KEY,
        FEDI_TOWN_ALLOW_PRIVATE_ADDRESSES="true",
        FEDI_TOWN_MEDIA_DIR=str(tmp_path / "media"),
        FEDI_TOWN_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


@dataclass
class Served:
    """A running ``fedi-town serve``: its process, address and a client to it."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    client: httpx.AsyncClient

    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@asynccontextmanager
async def serve(env: dict[str, str], log_path: Path, *args: str) -> AsyncIterator[Served]:
    """Run ``fedi-town serve`` with ``env`` until ready (its front page answers); stop it
    (SIGTERM, then SIGKILL) when the block ends, unless it is already gone."""
    base_url = env["FEDI_TOWN_BASE_URL"]
    process, log = _spawn([str(FEDI_TOWN), "serve", *args], env, log_path)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:

            async def ready() -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"serve exited with {process.returncode}")
                try:
                    return (await client.get("/.well-known/nodeinfo")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_until(ready, timeout=30, interval=0.05)
            yield Served(process, base_url, log_path, client)
    finally:
        stop(process)
        log.close()


def _spawn(
    command: list[str], env: dict[str, str], log_path: Path
) -> tuple[subprocess.Popen[bytes], BinaryIO]:
    """Start ``command`` with its output appended to ``log_path`` (Popen returns at once)."""
    log = open(log_path, "ab")
    return subprocess.Popen(command, env=env, stdout=log, stderr=log), log


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_serve_until_exit(env: dict[str, str], timeout: float) -> tuple[int | None, str, float]:
    """Start ``fedi-town serve`` and wait for it to exit: (exit code or None if it still
    ran after ``timeout`` s, its stderr and stdout, seconds taken)."""
    started = time.monotonic()
    process = subprocess.Popen(
        [str(FEDI_TOWN), "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        return None, output.decode(errors="replace"), time.monotonic() - started
    return process.returncode, output.decode(errors="replace"), time.monotonic() - started


# -- a private PostgreSQL cluster ---------------------------------------------------------


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of the test session alone, on its own port, in a temp dir."""

    bin_dir: Path
    data_dir: Path
    port: int
    as_postgres: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        command = [*self.as_postgres, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir)]
        subprocess.run([*command, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data_dir} "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        self._ctl("-w", "-l", str(self.data_dir / "server.log"), "-o", options, "start")

    def restart(self) -> None:
        """A fast restart: every session is ended, the server comes back on the same port."""
        self._ctl("-w", "-l", str(self.data_dir / "server.log"), "-m", "fast", "restart")

    def stop(self) -> None:
        self._ctl("-w", "-m", "immediate", "stop")


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A private cluster for restart tests (skipped when PostgreSQL's binaries are missing,
    except with CI=true, where that fails)."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if IN_CI:
            pytest.fail(f"{reason}; the fault suite needs them in CI")
        pytest.skip(reason)
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="fedi-town-pg-"))
    data_dir = base / "data"
    if as_postgres:
        shutil.chown(base, "postgres", "postgres")
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data_dir), "-A", "trust",
         "-U", "postgres", "--no-sync", "-E", "UTF8"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    cluster = PrivatePostgres(bin_dir, data_dir, free_port(), as_postgres)
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


# -- small file systems -----------------------------------------------------------------


@contextlib.contextmanager
def small_filesystem(size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` to fill up or turn read-only (skipped where mounting is not
    allowed: it takes root or CAP_SYS_ADMIN; with CI=true, which runs as root, that fails)."""
    where = Path(tempfile.mkdtemp(prefix="fedi-town-fs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        where.rmdir()
        reason = f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}"
        if IN_CI:  # CI runs as root: the disk-full and read-only faults must run there
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
        with contextlib.suppress(OSError):
            where.rmdir()


def remount(where: Path, mode: str) -> None:
    """Turn a ``small_filesystem`` read-only (``ro``) or writable again (``rw``)."""
    subprocess.run(["mount", "-o", f"remount,{mode}", str(where)], check=True, timeout=30)


def fill(where: Path) -> Path:
    """Write a file until the file system has no space left; remove it to free the space."""
    filler = where / "filler"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        for size in (1 << 16, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


@asynccontextmanager
async def instance(
    database_url: str, tmp_path: Path, *, lease_ms: int = 2_000
) -> AsyncIterator[LiveInstance]:
    """fedi-town under uvicorn in this process on loopback, with its worker in-process and
    leases of ``lease_ms`` (so what a lease would bring back shows within seconds)."""
    sock = bind_loopback()
    port = sock.getsockname()[1]
    settings = make_settings(
        database_url, tmp_path, base_url=f"http://127.0.0.1:{port}",
        allow_private_addresses=True, worker="in-process",
    )  # fmt: skip
    services = Services.from_settings(settings)
    services.worker = WorkerOptions(poll_seconds=0.05, stop_deadline=2.0, lease_ms=lease_ms)
    app = create_app(settings, services)
    async with serve_app(app, sock):
        async with httpx.AsyncClient(base_url=settings.base_url, timeout=10) as client:
            yield LiveInstance(settings.base_url, settings, services, client)


def schema_url(cluster: PrivatePostgres) -> str:
    """A fresh schema of the private cluster (the store creates it when migrating)."""
    return f"{cluster.url}?schema=t_{secrets.token_hex(6)}"
