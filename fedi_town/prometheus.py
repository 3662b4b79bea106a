"""The figures themselves, in ``prometheus_client``: imported only when metrics are on.

``Figures`` holds this process's counters and histograms in a registry of its own (never
the library's global one, so two apps in one test process count apart). Each event finds
its labelled child in a plain dict, made on first use, and increments it: about a
microsecond, where the library's ``labels()`` validates its arguments every time.

``render`` writes the text format: this process's registry, or with a multiprocess
directory every process's files summed (``MultiProcessCollector``), followed by the gauges
the scrape read from the database (queue depths).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from fedi_town.metrics import PREFIX, Gauge

#: Seconds: a kept answer takes well under a millisecond, a page tens, a slow API call more.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Children:
    """A metric's labelled children by label values, made on first use."""

    def __init__(self, metric: Any) -> None:
        self.metric = metric
        self.made: dict[tuple[str, ...], Any] = {}

    def get(self, *labels: str) -> Any:
        child = self.made.get(labels)
        if child is None:
            child = self.made[labels] = self.metric.labels(*labels)
        return child


class Figures:
    """This process's counters (see ``fedi_town.metrics`` for what each counts)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        if directory is not None and not values.ValueClass._multiprocess:
            # prometheus_client was imported before the directory was set (it chooses its
            # value class at import): count in the shared files all the same.
            values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
        registry = self.registry = CollectorRegistry(auto_describe=False)
        #: (route, method, status) -> (its counter, its histogram): one look-up a request
        self._per_request: dict[tuple[str, str, int], tuple[Any, Any]] = {}

        def counter(name: str, doc: str, labels: Sequence[str]) -> _Children:
            return _Children(Counter(PREFIX + name, doc, labels, registry=registry))

        self._requests = counter(
            "http_requests", "HTTP requests by route template, method and status.",
            ("route", "method", "status"),
        )  # fmt: skip
        self._latency = _Children(
            Histogram(
                PREFIX + "http_request_duration_seconds",
                "Time to answer an HTTP request, by route template and method.",
                ("route", "method"),
                buckets=LATENCY_BUCKETS,
                registry=registry,
            )
        )
        self._inbox = counter(
            "inbox_activities", "Activities POSTed to an inbox, by type and verdict.",
            ("type", "verdict"),
        )  # fmt: skip
        self._inbox_handled = counter(
            "inbox_handled", "Inbox items the worker worked, by type and outcome.",
            ("type", "outcome"),
        )  # fmt: skip
        self._deliveries = counter(
            "deliveries", "Deliveries the worker worked, by outcome.", ("outcome",)
        )
        self._signatures = counter(
            "signature_failures", "HTTP signatures refused, by where and why.",
            ("where", "reason"),
        )  # fmt: skip
        self._read_cache = counter(
            "read_cache_lookups", "Look-ups in the kept-answer cache, by result (hit, miss).",
            ("result",),
        )  # fmt: skip
        self._read_hit = self._read_cache.get("hit")  # every GET: no look-up at all
        self._read_miss = self._read_cache.get("miss")
        self._key_cache = counter(
            "key_cache_lookups", "Signers' keys looked up, by where found "
            "(memory, stored, fetched).",
            ("result",),
        )  # fmt: skip

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        pair = self._per_request.get((route, method, status))
        if pair is None:
            pair = self._per_request[route, method, status] = (
                self._requests.get(route, method, str(status)),
                self._latency.get(route, method),
            )
        pair[0].inc()
        pair[1].observe(seconds)

    def inbox(self, kind: str, verdict: str) -> None:
        self._inbox.get(kind, verdict).inc()

    def inbox_handled(self, kind: str, outcome: str) -> None:
        self._inbox_handled.get(kind, outcome).inc()

    def delivery(self, outcome: str) -> None:
        self._deliveries.get(outcome).inc()

    def signature_failure(self, where: str, reason: str) -> None:
        self._signatures.get(where, reason).inc()

    def read_cache(self, hit: bool) -> None:
        (self._read_hit if hit else self._read_miss).inc()

    def key_cache(self, found: str) -> None:
        self._key_cache.get(found).inc()

    def render(self, gauges: Iterable[Gauge] = ()) -> bytes:
        """The text format: every process's counts (or this one's), then ``gauges``."""
        if self.directory is not None:
            summed = CollectorRegistry(auto_describe=False)
            MultiProcessCollector(summed, str(self.directory))  # type: ignore[no-untyped-call]
            counted = generate_latest(summed)
        else:
            counted = generate_latest(self.registry)
        read = CollectorRegistry(auto_describe=False)
        read.register(_ReadNow(list(gauges)))
        return counted + generate_latest(read)


class _ReadNow:
    """A collector of gauges already read (a registry wants a ``collect()``)."""

    def __init__(self, gauges: list[Gauge]) -> None:
        self.gauges = gauges

    def collect(self) -> Iterator[Metric]:
        for gauge in self.gauges:
            family = GaugeMetricFamily(PREFIX + gauge.name, gauge.help, labels=gauge.labels)
            for labels, value in gauge.samples:
                family.add_metric(list(labels), value)
            yield family
