"""``fedi-town serve --workers N``: N web processes answering on one address and port.

    run_processes(make_app, settings, workers)   what serve runs when N > 1 (PostgreSQL only)

**How.** The parent (this module) makes one listening socket per child, all bound to the
same address and port with ``SO_REUSEPORT`` (``listening_sockets``), then forks N
children; each builds its app (``make_app(settings)``) and runs ``serving.run_server`` on
its own socket, so every child has the request deadlines and the body budget of one
``serve`` (the budget is per process: N children hold at most N budgets). The kernel
hashes each new connection (its addresses and ports) to one of the sockets, so
connections are spread evenly over the children however many arrive at once.

Why our own small supervisor, not uvicorn's ``--workers``: uvicorn's supervisor starts its
children with ``spawn``, pickling the configuration, and ``serving.deadline_protocol`` is a
class made at run time, which does not pickle; uvicorn also takes the app as an import
string, so the checks ``serve`` makes before listening (and the migrations) would run once
per child instead of once. Why ``fork``: the children share the parent's imported code
(copy-on-write, ``gc.freeze`` first so the collector does not touch and copy it), and start
in a fraction of the import time.

Why a socket per child (``SO_REUSEPORT``), not one socket they all accept on: on a shared
socket the child that wakes first accepts every connection waiting (uvloop drains the
backlog at each wake-up), so a burst of keep-alive connections (``wrk``'s 32, or a big
Mastodon server's) lands in one child while the others idle: ``bench.read_path`` measured
2 children at 0.99 cores between them. With a socket each, both cores work
(docs/performance.md, "Both cores for keep-alive connections"). What the shared socket did
better, and how it is kept:

- *The port stays ours.* The parent keeps every child's socket open, and always at least
  one, so the port is held by a listening socket as before. Another program cannot join
  the group: Linux lets a socket bind beside ours only if it sets ``SO_REUSEPORT`` too and
  runs as the same user (tried: another user, or the same user without it, gets
  ``EADDRINUSE``), and ``listening_sockets`` first binds without it, so a port held by
  anything, another ``serve --workers`` of the same user included, is refused as busy. (A
  bound socket that does not listen would not do: one with ``SO_REUSEADDR``, as uvicorn
  binds, lets another such socket bind and listen beside it.)
- *A dead child's waiting connections.* Linux resets the connections waiting on a
  listening socket when it is closed. The parent keeps a dead child's socket open, so
  what waits on it is accepted by the replacement once started (at once, or after
  ``FIRST_PAUSE_S`` when the child had served less than ``STEADY_S``): the clients wait,
  none is reset. Only a child that keeps crashing (a longer pause) has its socket closed
  while others serve: what waits on it is reset, new connections go to the others, and
  the replacement gets a new socket. (Linux 5.14+ can move them instead: ``sysctl
  net.ipv4.tcp_migrate_req=1``.)
- *Stopping.* On SIGTERM the parent closes its copies of the sockets as the children close
  theirs (the first step of uvicorn's shutdown), so a new connection is refused at once
  rather than waiting in a queue nobody accepts from.

**Who does what.** ``serve`` checks the port and migrates the database in the parent,
before any child starts (``cli._cannot_serve``); the parent then only watches: it holds no
database connection and answers no request.

- A child that exits while the server runs is replaced (at once when it had served for
  ``STEADY_S``; otherwise after a pause doubling from ``FIRST_PAUSE_S`` to ``MOST_PAUSE_S``,
  so a child that keeps crashing does not spin). A child that could not start at all
  (``serving.STARTUP_FAILURE``: its app's start failed, say the database is gone) stops
  every child and ``serve`` exits with the same status, so the service manager sees it.
- SIGTERM or SIGINT stops gracefully: each child gets SIGTERM, stops accepting, finishes
  the requests it is answering and stops its worker (uvicorn's shutdown and our lifespan);
  the parent exits 0 once every child has. A second SIGINT (Ctrl-C again) makes the
  children stop at once. Children live in their own process group, so Ctrl-C on a terminal
  reaches the parent only, and they get SIGTERM if the parent dies (``PR_SET_PDEATHSIG``).

**The queue worker** runs in every child (unless ``FEDI_TOWN_WORKER=off``). PostgreSQL's
``FOR UPDATE SKIP LOCKED`` claim keeps them from taking the same row, and the wake-up after
a commit (``store.effects.Wake``) reaches only the worker of the process that committed:
with a worker in one child only, a post or an activity that another child received waits
for the next poll (``poll_seconds``, 1 s). Measured with ``bench.memory`` (2 children, 30
posts each on a new connection): post to first delivery at most 0.25 s with a worker in
each child, up to 0.93 s with one; the cost is 5-10 MB per child and one idle claim per
queue per second per child. ``fedi-town worker`` processes keep working beside them.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

from starlette.types import ASGIApp

from fedi_town.serving import STARTUP_FAILURE, run_server
from fedi_town.settings import Settings

log = logging.getLogger(__name__)

#: Connections waiting to be accepted (uvicorn's default).
BACKLOG = 2048
#: A child that served this long before exiting is replaced at once (seconds).
STEADY_S = 10.0
#: First pause before replacing a child that exited sooner; doubles up to ``MOST_PAUSE_S``.
FIRST_PAUSE_S = 0.5
MOST_PAUSE_S = 10.0
_PR_SET_PDEATHSIG = 1


def _bound(settings: Settings, *, reuse_port: bool) -> socket.socket:
    """A socket bound to ``settings.host:port`` (``SO_REUSEADDR`` as uvicorn binds)."""
    family, kind, proto, _, address = socket.getaddrinfo(
        settings.host, settings.port, type=socket.SOCK_STREAM
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def listening_socket(settings: Settings) -> socket.socket:
    """One child's socket: bound with ``SO_REUSEPORT`` beside its siblings', listening,
    kept across a fork."""
    sock = _bound(settings, reuse_port=True)
    try:
        sock.listen(BACKLOG)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def listening_sockets(settings: Settings, count: int) -> list[socket.socket]:
    """``count`` sockets on ``settings.host:port``, one per child. ``OSError`` if anything
    holds the port already, another ``SO_REUSEPORT`` group of ours included: the port is
    tried without ``SO_REUSEPORT`` first."""
    _bound(settings, reuse_port=False).close()
    made: list[socket.socket] = []
    try:
        for _ in range(count):
            made.append(listening_socket(settings))
    except BaseException:
        for sock in made:
            sock.close()
        raise
    return made


def _die_with_parent() -> None:
    """Ask Linux to send this child SIGTERM when its parent dies (nothing elsewhere)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _leave(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _child(
    sock: socket.socket,
    others: list[socket.socket],
    make_app: Callable[[Settings], ASGIApp],
    settings: Settings,
    parent: int,
) -> None:
    """One web process: its own app on its own socket, until SIGTERM. ``others`` (its
    siblings' sockets, inherited by the fork) are closed, so that a socket the parent
    closes is closed for good."""
    for other in others:
        other.close()
    with contextlib.suppress(OSError):  # a sandbox may refuse it: Ctrl-C then reaches us too
        os.setpgid(0, 0)  # Ctrl-C on the terminal reaches the parent, which stops us in order
    # Until uvicorn takes over the signals, and after it re-raises the one that stopped it:
    # leave quietly with status 0.
    signal.signal(signal.SIGTERM, _leave)
    signal.signal(signal.SIGINT, _leave)
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the line above: nobody to serve for
        return
    run_server(make_app(settings), settings, sockets=[sock])


@dataclass
class _Slot:
    """One child's place: the process in it and when it started."""

    number: int
    process: BaseProcess | None = None
    sock: socket.socket | None = None
    started: float = 0.0
    pause_s: float = 0.0
    restart_at: float | None = None


class Supervisor:
    """Starts a child on each of ``sockets``; replaces those that exit, stops them all on
    SIGTERM/SIGINT (see the module docstring)."""

    def __init__(
        self,
        make_app: Callable[[Settings], ASGIApp],
        settings: Settings,
        sockets: list[socket.socket],
    ) -> None:
        self.make_app = make_app
        self.settings = settings
        self.slots = [_Slot(number, sock=sock) for number, sock in enumerate(sockets)]
        self.context = multiprocessing.get_context("fork")
        self.stopping = 0  # signals received
        self.status = 0
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)

    def _signalled(self, signum: int, frame: FrameType | None) -> None:
        self.stopping += 1
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"!")
        if self.stopping == 1:
            log.info("stopping %d web processes (finishing their requests)", self._alive())
            self._send(signal.SIGTERM)
        else:
            log.info("stopping the web processes at once")
            self._send(signal.SIGINT)

    def _send(self, sig: int) -> None:
        for slot in self.slots:
            if slot.process is not None and slot.process.pid and slot.process.is_alive():
                # after the SIGTERM, uvicorn takes a SIGINT as "stop at once"
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.process.pid, sig)

    def _alive(self) -> int:
        return sum(1 for s in self.slots if s.process is not None and s.process.is_alive())

    def _start(self, slot: _Slot) -> None:
        if slot.sock is None:
            try:
                slot.sock = listening_socket(self.settings)
            except OSError as exc:
                slot.pause_s = min(MOST_PAUSE_S, max(FIRST_PAUSE_S, slot.pause_s * 2))
                log.error(
                    "web process %d: cannot listen (%s): trying again in %.1f s",
                    slot.number,
                    exc,
                    slot.pause_s,
                )
                slot.restart_at = time.monotonic() + slot.pause_s
                return
        others = [s.sock for s in self.slots if s.sock is not None and s is not slot]
        process = self.context.Process(
            target=_child,
            args=(slot.sock, others, self.make_app, self.settings, os.getpid()),
            name=f"fedi-town-web-{slot.number}",
        )
        process.start()
        slot.process, slot.started, slot.restart_at = process, time.monotonic(), None
        log.info("web process %d started (pid %s)", slot.number, process.pid)
        if self.stopping and process.pid:  # the stop came while it was being started
            os.kill(process.pid, signal.SIGTERM)

    def _exited(self, slot: _Slot) -> None:
        """``slot``'s child exited while serving: plan its replacement, or stop all."""
        process = slot.process
        assert process is not None
        code = process.exitcode
        process.close()
        slot.process = None
        if code == STARTUP_FAILURE:
            log.error("web process %d could not start: stopping the others", slot.number)
            self.status = STARTUP_FAILURE
            self._signalled(signal.SIGTERM, None)
            return
        lived = time.monotonic() - slot.started
        slot.pause_s = (
            0.0 if lived >= STEADY_S else min(MOST_PAUSE_S, max(FIRST_PAUSE_S, slot.pause_s * 2))
        )
        how = f"signal {-code}" if code is not None and code < 0 else f"status {code}"
        log.warning(
            "web process %d exited with %s after %.0f s: replacing it in %.1f s",
            slot.number,
            how,
            lived,
            slot.pause_s,
        )
        slot.restart_at = time.monotonic() + slot.pause_s
        serving = any(s.process is not None for s in self.slots)
        if slot.pause_s > FIRST_PAUSE_S and serving and slot.sock is not None:
            # it keeps crashing: the connections waiting on its socket are reset and new
            # ones go to the other children (a new socket comes with the replacement). The
            # last socket stays, so the port stays ours.
            slot.sock.close()
            slot.sock = None

    def _close_sockets(self) -> None:
        """Close the parent's copies of the children's sockets: once a child has closed
        its own, new connections hashed to it are refused instead of waiting."""
        for slot in self.slots:
            if slot.sock is not None:
                slot.sock.close()
                slot.sock = None

    def run(self) -> int:
        """Start the children and watch them until every one has stopped; the exit status."""
        gc.freeze()  # what the parent imported stays shared with the children
        previous = {
            sig: signal.signal(sig, self._signalled) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            for slot in self.slots:
                if not self.stopping:
                    self._start(slot)
            while True:
                children = {s.process.sentinel: s for s in self.slots if s.process is not None}
                if self.stopping:
                    self._close_sockets()
                    if not children:
                        break
                due = [s.restart_at for s in self.slots if s.restart_at is not None]
                timeout = max(0.0, min(due) - time.monotonic()) if due else None
                ready = wait([*children, self._wake_read], timeout)
                if self._wake_read in ready:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_read, 64)
                for sentinel in ready:
                    found = children.get(sentinel) if isinstance(sentinel, int) else None
                    if found is not None and found.process is not None:
                        found.process.join()
                        if self.stopping:
                            found.process.close()
                            found.process = None
                        else:
                            self._exited(found)
                now = time.monotonic()
                for slot in self.slots:
                    if self.stopping:
                        slot.restart_at = None
                    elif slot.restart_at is not None and slot.restart_at <= now:
                        self._start(slot)
        finally:
            self._close_sockets()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            os.close(self._wake_read)
            os.close(self._wake_write)
        log.info("every web process stopped")
        return self.status


def run_processes(make_app: Callable[[Settings], ASGIApp], settings: Settings, workers: int) -> int:
    """Serve with ``workers`` processes on ``settings.host:port`` until SIGTERM/SIGINT;
    the exit status (0, or ``serving.STARTUP_FAILURE`` when a child could not start)."""
    try:
        sockets = listening_sockets(settings, workers)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", settings.host, settings.port, exc)
        return STARTUP_FAILURE
    return Supervisor(make_app, settings, sockets).run()
