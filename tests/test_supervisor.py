"""``fedi-town serve --workers 2`` run as a user runs it: two web processes on one port.

Which process answered a request is read from the system, not from the app: each child's
open sockets (``/proc/<pid>/fd``) matched with the established connections to the port
(``/proc/net/tcp``) while the test's keep-alive connections stay open after their answer.
"""

from __future__ import annotations

import http.client
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fedi_town import cli
from fedi_town.lifecycle import OPEN_FILES_WANTED
from fedi_town.settings import Settings
from fedi_town.supervisor import listening_socket, listening_sockets
from tests.conftest import ADMIN_TOKEN, KEY_ENCRYPTION_KEY

FEDI_TOWN = Path(sys.executable).with_name("fedi-town")
postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_env(database_url: str, tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}
    env.update(
        FEDI_TOWN_BASE_URL=f"http://127.0.0.1:{port}",
        FEDI_TOWN_PORT=str(port),
        FEDI_TOWN_DATABASE_URL=database_url,
        FEDI_TOWN_ADMIN_TOKEN=ADMIN_TOKEN,
        FEDI_TOWN_KEY_ENCRYPTION_KEYS=KEY_ENCRYPTION_KEY,
        FEDI_TOWN_MEDIA_DIR=str(tmp_path / "media"),
    )
    return env


def children(pid: int) -> set[int]:
    """The live child processes of ``pid``."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(p) for p in text)
    return found


def get(port: int, path: str = "/.well-known/nodeinfo") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def wait_for(check, what: str, seconds: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            result = check()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def served(
    env: dict[str, str], log: Path, *args: str, soft_open_files: int | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``fedi-town serve --workers 2`` until both children answer; SIGKILLed if left over.
    ``soft_open_files`` starts it under that soft ``RLIMIT_NOFILE`` (as systemd's 1,024)."""

    def limit() -> None:
        if soft_open_files is not None:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft_open_files, hard))

    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(FEDI_TOWN), "serve", "--workers", "2", *args],
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,  # its own process group, as on a terminal
            preexec_fn=limit,
        )
    port = int(env["FEDI_TOWN_PORT"])
    try:
        wait_for(lambda: get(port) == 200 and len(children(process.pid)) == 2, "two children")
        yield process
    finally:
        if process.poll() is None:
            for pid in children(process.pid):
                os.kill(pid, signal.SIGKILL)
            process.kill()
            process.wait()


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of established connections whose local port is ``port``."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as handle:
            next(handle)
            for line in handle:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if int(local.rsplit(":", 1)[1], 16) == port and state == "01":
                    inodes.add(inode)
    return inodes


def connections_held(pids: set[int], port: int) -> dict[int, int]:
    """How many established connections on ``port`` each of ``pids`` holds (accepted)."""
    inodes = _established_inodes(port)
    held = dict.fromkeys(pids, 0)
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                held[pid] += 1
    return held


def holding_connections(pids: set[int], port: int) -> set[int]:
    """Which of ``pids`` hold an established connection on ``port`` (that they accepted)."""
    return {pid for pid, count in connections_held(pids, port).items() if count}


def answering_processes(pids: set[int], port: int, connections: int = 12) -> set[int]:
    """Open ``connections`` keep-alive connections, get an answer on each, and say which
    processes hold them while they are still open."""
    opened = []
    try:
        for _ in range(connections):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/.well-known/nodeinfo")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            opened.append(conn)
        return holding_connections(pids, port)
    finally:
        for conn in opened:
            conn.close()


@postgres_only
def test_two_web_processes_answer_on_one_port(database_url: str, tmp_path: Path) -> None:
    # Given fedi-town serve --workers 2 on PostgreSQL
    port = free_port()
    with served(serve_env(database_url, tmp_path, port), tmp_path / "serve.log") as process:
        pids = children(process.pid)
        # When many requests come in, a connection at a time
        seen: set[int] = set()
        for _ in range(50):
            seen |= answering_processes(pids, port)
            if seen == pids:
                break
        # Then both processes answered some of them
        assert seen == pids


@postgres_only
def soft_open_file_limit(pid: int) -> int:
    """The soft "Max open files" of a running process, from /proc."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no open-file limit in /proc")


@postgres_only
def test_web_processes_raise_a_low_soft_open_file_limit_towards_the_hard_one(
    database_url: str, tmp_path: Path
) -> None:
    # Given a hard open-file limit above 1,024, and serve started under systemd's soft 1,024
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard <= 1024:
        pytest.fail(f"this machine's hard open-file limit ({hard}) leaves nothing to raise")
    expected = OPEN_FILES_WANTED if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES_WANTED)
    port = free_port()
    env = serve_env(database_url, tmp_path, port)
    with served(env, tmp_path / "serve.log", soft_open_files=1024) as process:
        # Then the supervisor and both web processes run with the raised soft limit,
        # so deliveries may keep up to 1,024 idle connections (a quarter of it)
        for pid in {process.pid} | children(process.pid):
            assert soft_open_file_limit(pid) == expected


@postgres_only
def test_keep_alive_connections_opened_at_once_are_spread_over_both_processes(
    database_url: str, tmp_path: Path
) -> None:
    # Given fedi-town serve --workers 2
    port = free_port()
    with served(serve_env(database_url, tmp_path, port), tmp_path / "serve.log") as process:
        pids = children(process.pid)
        # When 32 keep-alive connections are opened at once (as wrk, or a big Mastodon
        # server, opens them), then each asks a few times
        opened = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(32)]
        try:
            for conn in opened:
                conn.connect()
            for _ in range(3):
                for conn in opened:
                    conn.request("GET", "/.well-known/nodeinfo")
                    response = conn.getresponse()
                    response.read()
                    assert response.status == 200
            held = connections_held(pids, port)
        finally:
            for conn in opened:
                conn.close()
        # Then both processes accepted and answered some of them (each connection is
        # answered by the process that accepted it)
        assert sum(held.values()) == 32
        assert all(held.values()), held


@postgres_only
def test_a_killed_web_process_is_replaced_and_serving_goes_on(
    database_url: str, tmp_path: Path
) -> None:
    # Given fedi-town serve --workers 2
    port = free_port()
    log = tmp_path / "serve.log"
    with served(serve_env(database_url, tmp_path, port), log) as process:
        first = children(process.pid)
        victim = min(first)
        # When one web process is killed
        os.kill(victim, signal.SIGKILL)
        # Then requests keep being answered, and a new process takes its place
        assert get(port) == 200
        replaced = wait_for(
            lambda: (c := children(process.pid)) and len(c) == 2 and victim not in c and c,
            "a replacement",
        )
        assert len(replaced & first) == 1
        wait_for(lambda: answering_processes(replaced, port) and get(port) == 200, "answers")
        assert "exited with signal 9" in log.read_text()


@postgres_only
def test_sigterm_lets_a_request_in_flight_finish_then_every_process_exits_0(
    database_url: str, tmp_path: Path
) -> None:
    # Given fedi-town serve --workers 2, and a request whose body is still on its way
    port = free_port()
    with served(serve_env(database_url, tmp_path, port), tmp_path / "serve.log") as process:
        pids = children(process.pid)
        body = b'{"type": "Follow"}'
        conn = socket.create_connection(("127.0.0.1", port), timeout=20)
        conn.sendall(
            b"POST /inbox HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:5]
        )
        wait_for(lambda: holding_connections(pids, port), "the connection to be accepted")
        # When the service manager stops it
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the children are stopping now, the request is still arriving
        conn.setblocking(False)
        with pytest.raises(BlockingIOError):  # not answered yet: it waits for its body
            conn.recv(1)
        conn.setblocking(True)
        conn.sendall(body[5:])
        answer = conn.recv(65536)
        conn.close()
        # Then the request was answered, and every process exits, the parent with 0
        assert answer.startswith(b"HTTP/1.1 "), answer[:40]
        assert process.wait(timeout=30) == 0
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid)


@postgres_only
def test_ctrl_c_on_a_terminal_stops_every_process_gracefully(
    database_url: str, tmp_path: Path
) -> None:
    # Given fedi-town serve --workers 2 in the foreground of a terminal
    port = free_port()
    log = tmp_path / "serve.log"
    with served(serve_env(database_url, tmp_path, port), log) as process:
        pids = children(process.pid)
        # (both started: one still starting when stopped leaves without uvicorn's lines)
        started = "Application startup complete"
        wait_for(lambda: log.read_text().count(started) == len(pids), "both web processes")
        # When Ctrl-C sends SIGINT to the terminal's foreground process group
        os.killpg(process.pid, signal.SIGINT)
        # Then the parent alone gets it and stops the web processes in order, exiting 0
        assert process.wait(timeout=30) == 0
    said = log.read_text()
    assert "stopping 2 web processes" in said and "every web process stopped" in said
    assert said.count("Application shutdown complete") == len(pids)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0]
    except (OSError, IndexError):
        return "zombie"


def test_more_than_one_web_process_on_sqlite_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a SQLite instance
    monkeypatch.setenv("FEDI_TOWN_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("FEDI_TOWN_ADMIN_TOKEN", ADMIN_TOKEN)
    # When serve is asked for 2 web processes, by flag or by setting
    by_flag = cli.main(["serve", "--workers", "2"])
    flag_err = capsys.readouterr().err
    monkeypatch.setenv("FEDI_TOWN_WEB_WORKERS", "3")
    by_setting = cli.main(["serve"])
    setting_err = capsys.readouterr().err
    # Then it refuses at once with one line naming the setting and why, before migrating
    assert by_flag == by_setting == 2
    for err in (flag_err, setting_err):
        assert err.count("\n") == 1
        assert "FEDI_TOWN_WEB_WORKERS" in err and "SQLite is one process" in err
    assert not (tmp_path / "db.sqlite3").exists()


def test_each_web_process_gets_a_listening_socket_of_its_own_on_the_one_port() -> None:
    # Given the sockets of two web processes
    port = free_port()
    settings = Settings(port=port)
    sockets = listening_sockets(settings, 2)
    try:
        # Then both listen on the port and survive a fork
        assert [s.getsockname()[1] for s in sockets] == [port, port]
        assert all(s.get_inheritable() for s in sockets)
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        # And neither another serve --workers nor an ordinary socket can take the port
        with pytest.raises(OSError):
            for sock in listening_sockets(settings, 2):
                sock.close()
        with socket.socket() as other, pytest.raises(OSError):
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            other.bind(("127.0.0.1", port))
        # While a replacement's socket joins them
        listening_socket(settings).close()
    finally:
        for sock in sockets:
            sock.close()


def test_a_port_in_use_is_refused() -> None:
    # Given a port in use by an ordinary listening socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        # Then the web processes cannot listen on it
        with pytest.raises(OSError):
            listening_sockets(Settings(port=busy.getsockname()[1]), 2)


FAILING_START = """
import sys
from fedi_town.settings import Settings
from fedi_town.supervisor import run_processes

def app(settings):
    async def asgi(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.failed", "message": "no database"})
    return asgi

sys.exit(run_processes(app, Settings(port=int(sys.argv[1])), 2))
"""


def test_a_web_process_that_cannot_start_stops_the_others_and_serve_exits_3() -> None:
    # Given web processes whose app cannot start (as when the database went away)
    result = subprocess.run(
        [sys.executable, "-c", FAILING_START, str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Then serve stops every one and exits with uvicorn's start failure status, so the
    # service manager sees it (instead of restarting them for ever)
    assert result.returncode == 3
    assert "could not start: stopping the others" in result.stderr


CRASHING = """
import logging, sys
from fedi_town.settings import Settings
from fedi_town.supervisor import run_processes

logging.basicConfig(level=logging.INFO, format="%(message)s")

def app(settings):
    raise RuntimeError("a bug that kills the process as it starts")

sys.exit(run_processes(app, Settings(port=int(sys.argv[1])), 1))
"""


def test_a_process_that_keeps_crashing_is_replaced_after_longer_and_longer_pauses() -> None:
    # Given a web process that crashes as soon as it starts (not a start failure of its app)
    process = subprocess.Popen(
        [sys.executable, "-c", CRASHING, str(free_port())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # When it has been replaced a few times, and the service is then stopped
    lines: list[str] = []
    assert process.stderr is not None
    while len([line for line in lines if "replacing it in" in line]) < 4:
        line = process.stderr.readline()
        assert line, "".join(lines)
        lines.append(line)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    # Then each replacement waited longer than the one before (0.5 s doubling), and the
    # stop still ends with status 0
    pauses = [float(line.split("replacing it in ")[1].split(" s")[0]) for line in lines if
              "replacing it in" in line]  # fmt: skip
    assert pauses == [0.5, 1.0, 2.0, 4.0]
    assert process.returncode == 0
    assert "exited with status 1" in "".join(lines)
