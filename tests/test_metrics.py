"""The metrics facade: off by default without importing prometheus_client, labels bounded,
the token compared whole, the shared directory cleared of gone processes only."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fedi_town.metrics import (
    OFF,
    ROUTE,
    UNMATCHED,
    Measured,
    Metrics,
    prepare_multiprocess,
    route_of,
    token_matches,
)
from fedi_town.settings import Settings

pytestmark = pytest.mark.anyio

TOKEN = "metrics-token-0123456789"


def test_metrics_are_off_without_a_token_and_then_count_nothing():
    metrics = Metrics.from_settings(Settings())
    assert not metrics.on
    metrics.request("/x", "GET", 200, 0.1)
    metrics.inbox("Follow", "accepted")
    assert metrics.render() == b""
    assert not OFF.on


def test_an_instance_without_metrics_never_imports_prometheus_client(tmp_path):
    # Given the whole app built as `fedi-town serve` builds it, metrics off
    script = textwrap.dedent(
        f"""
        import sys
        from fedi_town.app import create_app
        from fedi_town.settings import Settings
        create_app(Settings(database_url="sqlite:///{tmp_path}/db.sqlite3"))
        print("prometheus_client" in sys.modules, "fedi_town.prometheus" in sys.modules)
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    # Then the library was never loaded
    assert out.stdout.split() == ["False", "False"]


def test_a_token_turns_counting_on_in_a_registry_of_its_own():
    first = Metrics.from_settings(Settings(metrics_token=TOKEN))
    second = Metrics.from_settings(Settings(metrics_token=TOKEN))
    first.inbox("Follow", "accepted")
    assert b'verdict="accepted"' in first.render()
    assert b'verdict="accepted"' not in second.render()


def test_unknown_methods_share_one_label():
    metrics = Metrics.from_settings(Settings(metrics_token=TOKEN))
    metrics.request("/x", "BREW", 418, 0.01)
    assert b'method="other"' in metrics.render() and b"BREW" not in metrics.render()


class _Route:
    path = "/users/{username}"


def test_the_route_label_is_the_template_never_the_path():
    assert route_of({"route": _Route(), "path": "/users/bakery"}) == "/users/{username}"
    assert route_of({ROUTE: "/inbox", "path": "/inbox"}) == "/inbox"
    assert route_of({"path": "/no/such/thing"}) == UNMATCHED


def test_the_token_must_match_whole():
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(TOKEN[:-1], TOKEN)
    assert not token_matches(TOKEN + "x", TOKEN)
    assert not token_matches("", "")


async def test_measured_counts_a_request_by_route_and_status():
    metrics = Metrics.from_settings(Settings(metrics_token=TOKEN))

    async def app(scope, receive, send):
        scope["route"] = _Route()
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message):
        pass

    scope = {"type": "http", "method": "POST", "path": "/users/bakery"}
    await Measured(app, metrics)(scope, None, send)
    text = metrics.render().decode()
    assert (
        'fedi_town_http_requests_total{method="POST",route="/users/{username}",status="201"} 1.0'
        in text
    )


def test_prepare_multiprocess_removes_the_files_of_gone_processes_only(tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(gone.stdout)
    alive = directory / f"counter_{os.getpid()}.db"
    dead = directory / f"histogram_{dead_pid}.db"
    for path in (alive, dead):
        path.write_bytes(b"")
    prepare_multiprocess(Settings(metrics_token=TOKEN, metrics_dir=directory))
    assert sorted(p.name for p in directory.iterdir()) == [alive.name]


def test_prepare_multiprocess_makes_the_directory_and_does_nothing_when_off(tmp_path):
    prepare_multiprocess(Settings(metrics_dir=tmp_path / "off"))
    assert not (tmp_path / "off").exists()
    prepare_multiprocess(Settings(metrics_token=TOKEN, metrics_dir=tmp_path / "on"))
    assert (tmp_path / "on").is_dir()


def test_settings_read_the_token_and_directory(tmp_path):
    settings = Settings.from_env(
        {"FEDI_TOWN_METRICS_TOKEN": TOKEN, "FEDI_TOWN_METRICS_DIR": str(tmp_path)}
    )
    assert settings.metrics_token == TOKEN and settings.metrics_dir == Path(tmp_path)
    assert TOKEN not in repr(settings)


class _Broken:
    def delivery(self, outcome):
        raise OSError("No space left on device")


def test_a_failing_count_never_fails_the_work_and_is_logged_once(caplog):
    metrics = Metrics(_Broken())  # type: ignore[arg-type]
    metrics.delivery("delivered")
    metrics.delivery("delivered")
    assert metrics.failing
    errors = [r for r in caplog.records if r.name == "fedi_town.metrics"]
    assert [r.getMessage() for r in errors] == [
        "metrics: counting failed: OSError; the work goes on"
    ]
