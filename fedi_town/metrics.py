"""Counting for Prometheus: one cheap call per event, the text format only when scraped.

    Metrics.from_settings(settings)   off unless FEDI_TOWN_METRICS_TOKEN is set
    metrics.request(route, ...)       an HTTP request, by route TEMPLATE (``Measured``)
    metrics.inbox(kind, verdict)      an activity POSTed to an inbox, and what we answered
    metrics.inbox_handled(kind, o)    an inbox item the worker handled, and the outcome
    metrics.delivery(outcome)         a delivery the worker sent (or not), and the outcome
    metrics.signature_failure(w, r)   a refused HTTP signature (where, why)
    metrics.read_cache(hit)           a look-up in the read side's answer cache
    metrics.key_cache(found)          where a signer's key was found (memory, stored, fetched)
    prepare_multiprocess(settings)    a supervisor clears the shared directory before spawning

Off (the default) every call returns at once and ``prometheus_client`` is never imported:
an idle instance should stay small (the library and its registry: about 1 MB, measured).
On, the figures live in ``fedi_town.prometheus`` (imported then), each event a counter or
histogram child found by a dict look-up and incremented. A count that fails (a full disk
under the multiprocess files) is logged once and never fails the request or the queue row
it counted.

Several processes (``fedi-town serve --workers N``, ``fedi-town worker``): with
``FEDI_TOWN_METRICS_DIR`` every process writes its counts to its own files in that
directory (prometheus_client's multiprocess mode) and ``/metrics`` in any web process sums
them all. Queue depths are not counted at all: ``read.metrics`` reads them from the
database when scraped, so they are right however many processes run.

Label values are bounded here or by the caller (route templates, never raw paths; activity
types we handle, else ``other``; HTTP methods we know, else ``other``), so a peer cannot
make the series grow without end.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedi_town.settings import Settings

if TYPE_CHECKING:
    from fedi_town.prometheus import Figures

log = logging.getLogger(__name__)

#: The scope key where a route that bypasses Starlette's routing names its template
#: (``fastpath``: kept answers and inbox POSTs).
ROUTE = "fedi_town.route"
#: The route label of a request no route matched (a 404 of the router).
UNMATCHED = "unmatched"
#: prometheus_client reads its multiprocess directory from this variable.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: Every metric's name starts so.
PREFIX = "fedi_town_"
#: The text format's media type: 0.0.4, what every Prometheus version reads.
MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


@dataclass(frozen=True)
class Gauge:
    """A gauge read at scrape time (queue depths): name without ``PREFIX``, help, label
    names, and each sample's label values and value."""

    name: str
    help: str
    labels: Sequence[str]
    samples: Sequence[tuple[Sequence[str], float]]


class Metrics:
    """This process's figures, or nothing at all when metrics are off."""

    def __init__(self, figures: Figures | None = None) -> None:
        self.figures = figures
        #: a count failed and was logged (``_failed``)
        self.failing = False

    @property
    def on(self) -> bool:
        return self.figures is not None

    @classmethod
    def from_settings(cls, settings: Settings) -> Metrics:
        """Off unless ``FEDI_TOWN_METRICS_TOKEN`` is set; then counting, in multiprocess
        mode when ``FEDI_TOWN_METRICS_DIR`` is set too."""
        if not settings.metrics_token:
            return cls()
        directory = settings.metrics_dir
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            # prometheus_client picks its value class from this variable when imported;
            # processes spawned from here inherit it.
            os.environ[MULTIPROC_ENV] = str(directory)
        from fedi_town import prometheus  # deferred: only with metrics on (idle memory)

        return cls(prometheus.Figures(directory))

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One HTTP request answered ``status`` after ``seconds``, by route template."""
        if self.figures is not None:
            try:
                self.figures.request(
                    route, method if method in _METHODS else "other", status, seconds
                )
            except Exception as exc:
                self._failed(exc)

    def inbox(self, kind: str, verdict: str) -> None:
        """An activity of ``kind`` POSTed to an inbox, and the verdict (``accepted``,
        ``duplicate``, ``refused-signature``, ``blocked``, …)."""
        if self.figures is not None:
            try:
                self.figures.inbox(kind, verdict)
            except Exception as exc:
                self._failed(exc)

    def inbox_handled(self, kind: str, outcome: str) -> None:
        """An inbox item of ``kind`` the worker worked, and how (``handled``, ``retry``,
        ``failed``, ``deferred``, ``raised``)."""
        if self.figures is not None:
            try:
                self.figures.inbox_handled(kind, outcome)
            except Exception as exc:
                self._failed(exc)

    def delivery(self, outcome: str) -> None:
        """A delivery the worker worked, and how (``delivered``, ``retry``, ``gave-up``,
        ``deferred``, ``raised``)."""
        if self.figures is not None:
            try:
                self.figures.delivery(outcome)
            except Exception as exc:
                self._failed(exc)

    def signature_failure(self, where: str, reason: str) -> None:
        """A signature refused at ``where`` (``inbox``, ``fetch``) for ``reason`` (the
        refusal's class name: a fixed set)."""
        if self.figures is not None:
            try:
                self.figures.signature_failure(where, reason)
            except Exception as exc:
                self._failed(exc)

    def read_cache(self, hit: bool) -> None:
        """A look-up in the read side's answer cache (``read.cache``)."""
        if self.figures is not None:
            try:
                self.figures.read_cache(hit)
            except Exception as exc:
                self._failed(exc)

    def key_cache(self, found: str) -> None:
        """Where a signer's key was found: ``memory``, ``stored`` or ``fetched``."""
        if self.figures is not None:
            try:
                self.figures.key_cache(found)
            except Exception as exc:
                self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        """Counting failed (say a full disk under the multiprocess files): the work it
        counted goes on; said once, not at every event."""
        if not self.failing:
            self.failing = True
            log.error("metrics: counting failed: %s; the work goes on", exc.__class__.__name__)

    def render(self, gauges: Iterable[Gauge] = ()) -> bytes:
        """The text format (``MEDIA_TYPE``): the counts (of every process sharing the
        directory), then ``gauges``; empty when off."""
        return b"" if self.figures is None else self.figures.render(gauges)


def token_matches(given: str, expected: str) -> bool:
    """Whether ``given`` is the metrics token, in time that says nothing about how much of
    it matched (digests compared, so not even the length shows)."""
    if not expected:
        return False
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


#: Metrics that count nothing: the default where no ``Services`` is at hand.
OFF = Metrics()


class Measured:
    """ASGI wrapper counting every HTTP request by route template, status and duration.

    Put in front of the app only when metrics are on. The template is Starlette's matched
    route (``scope["route"]``), else what the fast path wrote under ``ROUTE``, else
    ``UNMATCHED``: never the raw path.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.request(
                route_of(scope), scope["method"], status, time.perf_counter() - started
            )


def route_of(scope: Scope) -> str:
    """The route template that answered ``scope`` (see ``Measured``)."""
    route = scope.get("route")
    if route is not None:
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
    return str(scope.get(ROUTE, UNMATCHED))


def prepare_multiprocess(settings: Settings) -> None:
    """Before a supervisor spawns its processes: make ``FEDI_TOWN_METRICS_DIR`` and remove
    the files of processes that are gone (their counts would be summed forever, and a new
    process reusing a pid would continue them). Files of processes still running (a
    ``fedi-town worker`` started first) are kept. Nothing to do without the setting."""
    directory = settings.metrics_dir
    if directory is None or not settings.metrics_token:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.glob("*.db"):
        pid = _pid_of(path)
        if pid is None or not _alive(pid):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _pid_of(path: Path) -> int | None:
    """The process of a multiprocess file (``counter_1234.db``, ``gauge_all_1234.db``)."""
    tail = path.stem.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True
