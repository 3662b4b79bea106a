"""What a started instance holds in memory before anyone needs more (issue #19, memory).

Idle ``fedi-town serve`` stays under 80 MB because the libraries that only some requests need
are imported by those requests (``# deferred: ...``), or never in the server. These tests start
the app as ``serve`` does, in a fresh interpreter, and check by name that none of them is
loaded: an import moved back to the top of a module, or a new one, fails here instead of
silently costing every instance its megabytes. Sizes are measured by bench/memory.py, not here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ADMIN_TOKEN, KEY_ENCRYPTION_KEY

ROOT = Path(__file__).resolve().parent.parent

#: Loaded on first use only, each with the requests (or commands) that need it.
DEFERRED = {
    "aiohttp": "deliveries (remote/aio.py), with the first one",
    "PIL": "uploads and custom emoji (media/images.py)",
    "pillow_heif": "an iPhone's HEIC upload",
    "blurhash": "uploads (media/images.py)",
    "jinja2": "HTML pages",
    "jsonschema": "admin API bodies (schemas.py)",
    "referencing": "jsonschema's",
    "rpds": "jsonschema's",
    "yaml": "the OpenAPI description",
    "markdown_it": "posts written in Markdown",
    "icalendar": "events as .ics",
    "feedgenerator": "Atom/RSS feeds",
    "segno": "the poster's QR code",
    "webauthn": "passkeys",
    "argon2": "web app passwords",
    "prometheus_client": "GET /metrics, when a metrics token is set",
    "obstore": "media in an S3 bucket, when configured",
    "http_message_signatures": "RFC 9421 signatures (protocol/httpsig.py)",
    "http_sf": "RFC 9421 signatures and Content-Digest (protocol/digest.py)",
    "http_ece": "Web Push encryption (protocol/webpush.py), with the first push",
}
#: Never imported by the server at all.
NEVER = {
    "rich": "progress bars of the CLI only",
    "pygments": "rich's",
    "watchfiles": "uvicorn's --reload (fedi_town/__init__ leaves it out of import uvicorn)",
    "lxml": "test tools only",
    "extruct": "test tools only",
    "mf2py": "test tools only",
    "rdflib": "test tools only",
}

_SCRIPT = """
import asyncio, json, sys

from fedi_town.app import create_app  # first, as in `fedi-town serve` (see fedi_town/__init__)
from fedi_town.serving import server_config
from fedi_town.settings import Settings

import httpx


async def main():
    settings = Settings.from_env(json.loads(sys.argv[1]))
    app = create_app(settings)
    server_config(app, settings).load()  # uvicorn's protocols, as serve loads them
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            answer = await client.get("/.well-known/nodeinfo")
            assert answer.status_code == 200, answer.status_code
    # a None entry is a module kept out on purpose (fedi_town/__init__), not a loaded one
    loaded = {name.split(".")[0] for name, module in sys.modules.items() if module is not None}
    print(json.dumps(sorted(loaded)))


asyncio.run(main())
"""


def _loaded_after_start(database_url: str, tmp_path: Path) -> set[str]:
    """Top-level modules of a fresh interpreter that started the app and answered a GET."""
    settings = {
        "FEDI_TOWN_BASE_URL": "https://town.example",
        "FEDI_TOWN_DATABASE_URL": database_url,
        "FEDI_TOWN_ADMIN_TOKEN": ADMIN_TOKEN,
        "FEDI_TOWN_KEY_ENCRYPTION_KEYS": KEY_ENCRYPTION_KEY,
        "FEDI_TOWN_MEDIA_DIR": str(tmp_path / "media"),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDI_TOWN_")}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(settings)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_a_started_instance_has_not_imported_what_only_some_requests_need(database_url, tmp_path):
    # Given the app started as serve starts it (default settings, worker in the process),
    # on SQLite or PostgreSQL, having answered a request
    loaded = _loaded_after_start(database_url, tmp_path)
    # Then none of the heavy libraries that only some requests need is in memory yet,
    # nor any that the server never needs
    early = {name: why for name, why in {**DEFERRED, **NEVER}.items() if name in loaded}
    assert early == {}, f"imported at start (defer each to its first use): {early}"
    # And PostgreSQL's driver only where the database is PostgreSQL
    assert ("asyncpg" in loaded) == database_url.startswith("postgresql")


def test_the_deferred_libraries_are_still_installed_so_their_first_use_works():
    # Given the libraries deferred to their first use (each one's routes have their own tests)
    # When each is looked up where the server would import it
    missing = [name for name in DEFERRED if importlib.util.find_spec(name) is None]
    # Then each is there to import
    assert missing == []


def test_httpx_does_not_load_its_command_line_in_a_fedi_town_process():
    # Given a fresh interpreter that imports fedi_town first, then httpx (rich installed or not)
    script = "import fedi_town, httpx, sys; print('rich' in sys.modules, callable(httpx.main))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    # Then httpx's command line (click, rich, pygments) was not imported, and httpx still
    # has its `main` (which only says that its command line is not there)
    assert done.stdout.split() == ["False", "True"], done.stderr


def test_uvicorn_does_not_load_its_file_watcher_in_a_fedi_town_process():
    # Given a fresh interpreter that imports fedi_town first, then uvicorn (as serve does)
    script = (
        "import fedi_town, uvicorn, sys; from uvicorn.supervisors import ChangeReload;"
        "print(sys.modules.get('watchfiles') is not None, ChangeReload.__name__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    # Then watchfiles (the --reload watcher, which serve never uses) was not imported, and
    # uvicorn fell back to its stat-based reloader
    assert done.stdout.split() == ["False", "StatReload"], done.stderr
