"""The figures in prometheus_client: one registry per ``Figures``, the text format with the
gauges read at scrape, and several processes summed through a shared directory (each
process here is a real one: multiprocess mode is chosen per process)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from prometheus_client.parser import text_string_to_metric_families

from fedi_town.metrics import Gauge
from fedi_town.prometheus import Figures


def families(text: bytes) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_figures_render_counts_latency_and_the_gauges_read_at_scrape():
    figures = Figures(None)
    figures.request("/users/{username}", "GET", 200, 0.002)
    figures.request("/users/{username}", "GET", 200, 0.3)
    figures.delivery("delivered")
    figures.read_cache(True)
    figures.key_cache("memory")
    figures.signature_failure("inbox", "InvalidSignature")
    figures.inbox_handled("Follow", "handled")
    gauge = Gauge("queue_pending", "Rows waiting.", ("queue",), [(("deliveries",), 3)])
    found = families(figures.render([gauge]))
    labels = {"route": "/users/{username}", "method": "GET"}
    assert found["fedi_town_http_requests_total"] == [({**labels, "status": "200"}, 2.0)]
    buckets = dict((s["le"], v) for s, v in found["fedi_town_http_request_duration_seconds_bucket"])
    assert buckets["0.0025"] == 1 and buckets["0.5"] == 2 and buckets["+Inf"] == 2
    assert found["fedi_town_deliveries_total"] == [({"outcome": "delivered"}, 1.0)]
    assert found["fedi_town_queue_pending"] == [({"queue": "deliveries"}, 3.0)]
    assert found["fedi_town_signature_failures_total"] == [
        ({"where": "inbox", "reason": "InvalidSignature"}, 1.0)
    ]


COUNT = """
import sys
from pathlib import Path
from fedi_town.metrics import Metrics
from fedi_town.settings import Settings
metrics = Metrics.from_settings(
    Settings(metrics_token="metrics-token-0123456789", metrics_dir=Path(sys.argv[1]))
)
for _ in range(int(sys.argv[2])):
    metrics.delivery("delivered")
    metrics.request("/inbox", "POST", 202, 0.01)
sys.stdout.buffer.write(metrics.render())
"""


def test_processes_sharing_a_directory_are_summed(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FEDI_TOWN_", "PROMETHEUS"))}

    def run(count: int) -> bytes:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(COUNT), str(tmp_path), str(count)],
            env=env,
            capture_output=True,
            check=True,
        ).stdout

    # Given two processes that counted 3 and 4 deliveries and exited
    run(3)
    run(4)
    # When a third counts 5 and renders
    found = families(run(5))
    # Then the scrape sums all three
    assert found["fedi_town_deliveries_total"] == [({"outcome": "delivered"}, 12.0)]
    [(_, count)] = found["fedi_town_http_request_duration_seconds_count"]
    assert count == 12
