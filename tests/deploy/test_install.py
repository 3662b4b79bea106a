"""The production install: a wheel in a fresh virtualenv, as `make install-prod` does it. It
runs fedi-town (migrate, create-business, serve) and has none of the development tools.

Building the wheel and installing it with its dependencies takes about 40 s (pip's cache
warm); the tests share one install.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, KEY_ENCRYPTION_KEY
from tests.deploy.tools import ROOT

SOURCES = ["pyproject.toml", "README.md", "fedi_town", "schemas"]
DEV_TOOLS = ["pytest", "ruff", "mypy", "hypothesis", "importlinter", "playwright"]


def clean_environment() -> dict[str, str]:
    """This process's environment without what points Python at the checkout or its venv."""
    return {
        k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}
    }


def install(into: Path) -> subprocess.CompletedProcess[str]:
    """Build the wheel from a copy of the sources, then pip-install it into a new venv."""
    source = into / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(ROOT / name, source / name)
    quiet = ["--quiet", "--disable-pip-version-check"]
    wheel_command = [sys.executable, "-m", "pip", "wheel", *quiet, "--no-deps"]
    built = subprocess.run(
        [*wheel_command, "-w", str(into / "dist"), str(source)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-3000:]
    venv = subprocess.run(
        [sys.executable, "-m", "venv", str(into / "venv")], env=clean_environment(), check=False
    )
    assert venv.returncode == 0
    (wheel,) = (into / "dist").glob("fedi_town-*.whl")
    return subprocess.run(
        [str(into / "venv/bin/pip"), "install", *quiet, str(wheel)],
        env=clean_environment(), capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a production install made by the tests."""
    into = tmp_path_factory.mktemp("install-prod")
    installed = install(into)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return into / "venv" / "bin"


def test_the_installed_command_answers_help(prod):
    # When the installed fedi-town is asked for help
    result = subprocess.run(
        [str(prod / "fedi-town"), "--help"],
        env=clean_environment(), cwd=prod, capture_output=True, text=True, check=False,
    )  # fmt: skip
    # Then it lists its commands
    assert result.returncode == 0, result.stderr
    assert "usage: fedi-town" in result.stdout
    assert "serve" in result.stdout and "migrate" in result.stdout


def test_the_install_has_no_development_tools_and_is_not_editable(prod):
    # When the installed Python looks for the dev tools and for fedi_town itself
    probe = (
        "import importlib.util, fedi_town; "
        f"print([m for m in {DEV_TOOLS!r} if importlib.util.find_spec(m)]); "
        "print(fedi_town.__file__)"
    )
    result = subprocess.run(
        [str(prod / "python"), "-c", probe],
        env=clean_environment(), cwd=prod, capture_output=True, text=True, check=False,
    )  # fmt: skip
    # Then none of the dev tools is there, and fedi_town is a copy inside the venv
    tools, location = result.stdout.splitlines()
    assert tools == "[]"
    assert location.startswith(str(prod.parent)), location
    assert "site-packages" in location


def test_the_install_leaves_rich_out_so_httpx_does_not_load_its_command_line(prod):
    # When the installed Python imports httpx (every fedi-town process does)
    probe = "import sys, httpx; print(sorted({'rich', 'pygments'} & set(sys.modules)))"
    result = subprocess.run(
        [str(prod / "python"), "-c", probe],
        env=clean_environment(), cwd=prod, capture_output=True, text=True, check=False,
    )  # fmt: skip
    # Then neither rich nor pygments came with it: the progress bars are an extra
    # (fedi_town/progress.py), 3.3 MB in every process once installed
    assert result.stdout.strip() == "[]", result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def served(prod: Path, tmp_path: Path) -> Iterator[str]:
    """The installed fedi-town migrated, with a business, serving on a free port."""
    port = free_port()
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "FEDI_TOWN_BASE_URL": f"http://127.0.0.1:{port}",
        "FEDI_TOWN_PORT": str(port),
        "FEDI_TOWN_DATABASE_URL": f"sqlite:///{tmp_path}/fedi-town.sqlite3",
        "FEDI_TOWN_MEDIA_DIR": str(tmp_path / "media"),
        "FEDI_TOWN_ADMIN_TOKEN": ADMIN_TOKEN,
        "FEDI_TOWN_KEY_ENCRYPTION_KEYS": KEY_ENCRYPTION_KEY,
    }

    def command(*args: str) -> None:
        done = subprocess.run(
            [str(prod / "fedi-town"), *args],
            env=environ, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]

    command("migrate")
    command("create-business", "bakery", "--display-name", "Corner Bakery")
    server = subprocess.Popen(
        [str(prod / "fedi-town"), "serve"], env=environ, cwd=tmp_path, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.communicate()[1][-3000:]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the installed server did not listen"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_installed_server_serves_the_business_pages_and_the_api_description(served):
    # Given the installed fedi-town serving a business
    with httpx.Client(base_url=served) as client:
        # When the fediverse, a browser and a script ask for what the package ships
        actor = client.get("/users/bakery", headers={"Accept": "application/activity+json"})
        login = client.get("/login")
        openapi = client.get("/api/v1/openapi.json")
        invalid = client.post(
            "/api/v1/businesses",
            json={"username": 5},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    # Then the actor, the templates and the JSON Schemas are all there
    assert actor.status_code == 200
    assert actor.json()["preferredUsername"] == "bakery"
    assert login.status_code == 200 and "<form" in login.text
    assert openapi.status_code == 200 and "/api/v1/businesses" in openapi.json()["paths"]
    assert invalid.status_code == 422
