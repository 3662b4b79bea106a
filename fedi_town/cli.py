"""The ``fedi-town`` command: serve, migrate, create-business, token, worker,
new-key-encryption-key, rotate-keys, invite, list-businesses, doctor, backup, restore,
copy-database, export-business, import-business.

Every subcommand reads settings from the environment (see README, Settings), filled in from
``--env-file PATH`` (``envfile``: the real environment wins), and says what it did; secrets
it creates are printed once, on the terminal, never logged.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import logging
import os
import socket
import stat
import sys
import textwrap
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fedi_town import __version__, doctor, envfile, instance, lifecycle, progress
from fedi_town.api.auth import hash_token
from fedi_town.api.businesses import create_business, new_owner_token
from fedi_town.api.people import new_invite
from fedi_town.errors import ConfigError, ProblemError
from fedi_town.logs import FORMS as LOG_FORMS
from fedi_town.logs import configure_logging
from fedi_town.metrics import prepare_multiprocess
from fedi_town.protocol import sealed
from fedi_town.protocol.keys import generate_rsa_keypair
from fedi_town.services import Services, media_store
from fedi_town.settings import LOG_LEVELS, MAX_WEB_WORKERS, Settings, new_token
from fedi_town.store import archive, business_archive, businesses, health, keys_at_rest, people
from fedi_town.store.db import Store
from fedi_town.store.migrations import migrate

log = logging.getLogger(__name__)

DEMO_USERNAME = "bakery"
DEMO_PROFILE = {
    "username": DEMO_USERNAME,
    "display_name": "Corner Bakery",
    "summary": "Sourdough, rye and cinnamon buns, baked every morning since 1987.",
    "website": "https://bakery.example",
    "phone": "+1 555 0100",
    "category": "Bakery",
    "price_range": "$",
    "location": {
        "street_address": "1 Main Street",
        "locality": "Smallville",
        "region": "KS",
        "postal_code": "66002",
        "country": "US",
        "latitude": 39.5631,
        "longitude": -95.1216,
    },
    "timezone": "America/Chicago",
    "opening_hours": "Tu-Fr 07:00-14:00; Sa 07:00-12:00",
}


def _settings() -> Settings:
    return Settings.from_env(os.environ)


async def _with_store(settings: Settings) -> Services:
    services = Services.from_settings(settings)
    await services.store.connect()
    await migrate(services.store)
    return services


def cmd_migrate(args: argparse.Namespace) -> int:
    async def run() -> list[int]:
        services = Services.from_settings(_settings())
        await services.store.connect()
        try:
            return await migrate(services.store)
        finally:
            await services.store.disconnect()

    applied = asyncio.run(run())
    print(f"applied migrations: {applied}" if applied else "database is up to date")
    return 0


def cmd_create_business(args: argparse.Namespace) -> int:
    async def run() -> tuple[str, str, str]:
        services = await _with_store(_settings())
        try:
            data: dict[str, object] = {"username": args.username}
            data["display_name"] = args.display_name or args.username
            if args.summary:
                data["summary"] = args.summary
            business, token = await create_business(services, data)
            return (
                services.urls.handle(business.username),
                services.urls.actor(business.username),
                token,
            )
        finally:
            await services.store.disconnect()

    handle, actor, token = asyncio.run(run())
    print(f"created {handle}\nactor: {actor}\nowner token (shown once): {token}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    async def run() -> str | None:
        services = await _with_store(_settings())
        try:
            business = await businesses.by_username(services.store, args.username)
            if business is None:
                return None
            token = new_owner_token()
            await businesses.set_token_hash(
                services.store, business.id, hash_token(token), now=services.now_ms()
            )
            return token
        finally:
            await services.store.disconnect()

    token = asyncio.run(run())
    if token is None:
        print(f"no business {args.username!r}", file=sys.stderr)
        return 1
    print(f"new owner token for {args.username} (the old one no longer works):\n{token}")
    return 0


def _demo_admin_token(data_dir: Path) -> str:
    """The demo's admin token, made once and kept in data/admin-token (mode 600)."""
    path = data_dir / "admin-token"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # the database and secrets
    token = new_token()
    path.touch(mode=stat.S_IRUSR | stat.S_IWUSR)
    path.write_text(token + "\n")
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return token


def _demo_key_encryption_key(data_dir: Path) -> str:
    """The demo's key encryption key, made once and kept in data/key-encryption-key (600)."""
    path = data_dir / "key-encryption-key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # the database and secrets
    path.touch(mode=stat.S_IRUSR | stat.S_IWUSR)
    path.write_text(sealed.new_key() + "\n")
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return path.read_text().strip()


def cmd_new_key_encryption_key(args: argparse.Namespace) -> int:
    print(sealed.new_key())
    return 0


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    async def run() -> keys_at_rest.Resealed:
        services = await _with_store(_settings())
        try:
            return await keys_at_rest.reseal_all(services.store, services.sealed_keys)
        finally:
            await services.store.disconnect()

    done = asyncio.run(run())
    print(
        f"resealed {done.changed} of {done.total} private key(s) and {done.tokens_changed} "
        f"of {done.tokens_total} push token(s) with the first key"
    )
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    async def run() -> str:
        services = await _with_store(_settings())
        try:
            business = None
            if args.business:
                business = await businesses.by_username(services.store, args.business)
                if business is None or business.kind != "business" or business.deleted_at:
                    return ""
            role = "admin" if business is None else args.role
            _invite, url = await new_invite(services, business=business, role=role)
            return url
        finally:
            await services.store.disconnect()

    if not args.business and not args.admin:
        print("name a business (--business NAME) or --admin", file=sys.stderr)
        return 2
    url = asyncio.run(run())
    if not url:
        print(f"no business {args.business!r}", file=sys.stderr)
        return 1
    who = "the instance admin" if args.admin else f"{args.role} of {args.business}"
    print(f"invite link for {who} (single use, shown once):\n{url}")
    return 0


def _prepare_demo(settings: Settings) -> None:
    """Migrate and create the demo business if the instance has no business yet."""

    async def run() -> None:
        services = await _with_store(settings)
        try:
            urls = services.urls
            existing = [
                b for b in await businesses.list_all(services.store) if b.kind == "business"
            ]
            if not existing:
                business, token = await create_business(services, dict(DEMO_PROFILE))
                print(f"created the demo business {urls.handle(business.username)}")
                print(f"  owner token (shown once): {token}")
                existing = [business]
            for business in existing:
                print(f"business {urls.handle(business.username)}")
                print(f"  profile:   {urls.profile_page(business.username)}")
                print(f"  actor:     {urls.actor(business.username)}")
                print(f"  webfinger: {urls.webfinger()}?resource={urls.acct(business.username)}")
            if not await people.of_business(services.store, existing[0].id):
                _invite, url = await new_invite(services, business=existing[0], role="owner")
                print(f"owner app:  {url}  (sign-in link for the demo owner; single use)")
            if not await people.of_business(services.store, None):
                _invite, url = await new_invite(services, business=None, role="admin")
                print(f"admin app:  {url}  (sign-in link for the instance admin)")
            print(f"sign in:    {urls.base}/login")
            print(f"front page: {urls.front_page()}")
            print(f"nodeinfo:   {urls.base}/.well-known/nodeinfo")
            print(f"admin API:  {urls.base}/api/v1/openapi.json")
        finally:
            await services.store.disconnect()

    asyncio.run(run())


def _cannot_serve(settings: Settings) -> str | None:
    """Why ``serve`` cannot start, checked before the server does (a busy port, a database
    that cannot be opened, migrated or written), or None. A failed start then exits at once
    with this one line, so a service manager sees the failure and restarts or reports it."""

    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as exc:
        return f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}"

    services = Services.from_settings(settings)
    if services.store.path is not None:
        problem = health.sqlite_file_problem(services.store.path)
        if problem is not None:
            return problem

    async def check_store() -> None:
        await services.store.connect()
        try:
            await migrate(services.store)
            # a missing or wrong key is refused here; the instance key is made once, here,
            # not by each web process of --workers at once
            await instance.ensure_instance_key(services)
        finally:
            await services.store.disconnect()

    try:
        asyncio.run(check_store())
    except Exception as exc:
        return lifecycle.describe_failure(exc)
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    # The web stack (every route and template, uvicorn) is serve's alone: the other commands
    # and --help start in 0.33 s instead of 0.45 s without it.
    from fedi_town.app import create_app  # deferred: the web stack, serve's alone
    from fedi_town.serving import run_server  # deferred: uvicorn, serve's alone
    from fedi_town.supervisor import run_processes  # deferred: uvicorn, serve's alone

    settings = _settings()
    lifecycle.raise_open_file_limit()  # before any connection; the web processes inherit it
    workers = settings.web_workers if args.workers is None else args.workers
    refused = _cannot_run_processes(settings, workers)
    if refused is not None:
        print(f"cannot start: {refused}", file=sys.stderr)
        return 2
    if args.demo:
        data_dir = Path("data")
        if not settings.admin_token:
            token = _demo_admin_token(data_dir)
            os.environ["FEDI_TOWN_ADMIN_TOKEN"] = token
            settings = _settings()
        if not settings.key_encryption_keys:
            key = _demo_key_encryption_key(data_dir)
            os.environ["FEDI_TOWN_KEY_ENCRYPTION_KEYS"] = key
            settings = _settings()
            print("private keys are encrypted with the key kept in data/key-encryption-key")
        _prepare_demo(settings)
        print(f"admin token: {settings.admin_token}  (kept in data/admin-token)")
    elif not settings.admin_token:
        print(
            "warning: FEDI_TOWN_ADMIN_TOKEN is not set; the admin API refuses every admin call",
            file=sys.stderr,
        )
    problem = _cannot_serve(settings)
    if problem is not None:
        print(f"cannot start: {problem}", file=sys.stderr)
        return 1
    prepare_multiprocess(settings)  # FEDI_TOWN_METRICS_DIR: files of gone processes removed
    print(f"serving on http://{settings.host}:{settings.port} as {settings.base_url}")
    if workers > 1:  # migrated above, once; each child makes its own app after the fork
        print(f"with {workers} web processes")
        if settings.metrics_token and settings.metrics_dir is None:
            print(
                "warning: FEDI_TOWN_METRICS_DIR is not set, so /metrics shows the counts of "
                "whichever process answers the scrape (docs/operations.md, Metrics)",
                file=sys.stderr,
            )
        return run_processes(create_app, settings, workers)
    run_server(create_app(settings), settings)  # uvicorn with request deadlines, body budget
    return 0


def _cannot_run_processes(settings: Settings, workers: int) -> str | None:
    """Why ``serve`` cannot run ``workers`` web processes, or None."""
    if not 1 <= workers <= MAX_WEB_WORKERS:
        return f"--workers must be between 1 and {MAX_WEB_WORKERS}, got {workers}"
    if workers > 1 and settings.is_sqlite:
        return (
            f"{workers} web processes (--workers, FEDI_TOWN_WEB_WORKERS) need PostgreSQL: "
            "SQLite is one process's database (one writer, locks held in memory); serve "
            "with 1, or move to PostgreSQL (docs/self-hosting.md, Scaling)"
        )
    return None


def cmd_worker(args: argparse.Namespace) -> int:
    lifecycle.raise_open_file_limit()
    services = Services.from_settings(_settings())
    lifecycle.settle_heap()  # the services are built: what they hold is never garbage
    return lifecycle.run_worker(services)


def cmd_list_businesses(args: argparse.Namespace) -> int:
    async def run() -> list[dict[str, object]]:
        services = await _with_store(_settings())
        try:
            found = []
            for business in await businesses.list_all(services.store):
                if business.kind != "business":
                    continue
                counts = await businesses.counts(services.store, business.id)
                created = datetime.fromtimestamp(business.created_at / 1000, UTC)
                found.append(
                    {
                        "username": business.username,
                        "handle": services.urls.handle(business.username),
                        "followers": counts["followers"],
                        "posts": counts["posts"],
                        "created": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
                    }
                )
            return found
        finally:
            await services.store.disconnect()

    rows = asyncio.run(run())
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no businesses yet (fedi-town create-business NAME)")
        return 0
    columns = ["username", "handle", "followers", "posts", "created"]
    cells = [columns] + [[str(row[c]) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for line in cells:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    root = logging.getLogger()
    level = root.level
    if level > logging.DEBUG:
        root.setLevel(logging.WARNING)  # the report is the output, not "Connected to ..."
    try:
        checks = asyncio.run(doctor.run(os.environ, wait_s=args.timeout))
    finally:
        root.setLevel(level)
    for check in checks:
        print(check.line())
    failed = [check for check in checks if check.failed]
    if failed:
        print(f"{len(failed)} problem(s) to fix")
        return 1
    print("all checks passed")
    return 0


#: Each subcommand's --help: (description, epilog with an example), applied by
#: ``_add_common_options``. Every example works with --env-file /etc/fedi-town/fedi-town.env too.
COMMAND_HELP: dict[str, tuple[str, str]] = {
    "serve": (
        "Run the web server with the background worker inside it (unless "
        "FEDI_TOWN_WORKER=off). Before listening it checks the port, opens and migrates the "
        "database and opens the stored keys; a problem ends it at once with one line. "
        "With PostgreSQL, --workers N (FEDI_TOWN_WEB_WORKERS) runs N web processes on the "
        "same port; a process that exits is replaced.",
        "example:\n"
        "  fedi-town serve --env-file /etc/fedi-town/fedi-town.env\n"
        "  fedi-town serve --workers 4 --env-file /etc/fedi-town/fedi-town.env  # PostgreSQL\n"
        "  fedi-town serve --demo      # try it out on http://127.0.0.1:8000",
    ),
    "migrate": (
        "Apply the database migrations not applied yet (serve also does this at start). "
        "Safe to run twice and while other processes start.",
        "example:\n  sudo -u fedi-town fedi-town migrate --env-file /etc/fedi-town/fedi-town.env",
    ),
    "create-business": (
        "Create a business (its actor, keys and profile) and print its handle, actor URL "
        "and owner token. The token is shown once; `fedi-town token` makes a new one.",
        "example:\n"
        '  fedi-town create-business bakery --display-name "Corner Bakery" \\\n'
        '      --summary "Bread every morning"',
    ),
    "invite": (
        "Print a single-use sign-in link for the owner's web app: for an owner or staff "
        "member of a business, or for an instance admin.",
        "examples:\n"
        "  fedi-town invite --business bakery              # the owner of @bakery\n"
        "  fedi-town invite --business bakery --role staff\n"
        "  fedi-town invite --admin",
    ),
    "token": (
        "Issue a new owner token for a business's admin API; the old token stops working.",
        "example:\n  fedi-town token bakery",
    ),
    "worker": (
        "Run only the background worker (deliveries, inbox handling, clean-up). Several "
        "workers may share one PostgreSQL queue; set FEDI_TOWN_WORKER=off on the web "
        "process then.",
        "example:\n  fedi-town worker --env-file /etc/fedi-town/fedi-town.env",
    ),
    "new-key-encryption-key": (
        "Print a fresh key for FEDI_TOWN_KEY_ENCRYPTION_KEYS, which encrypts the private "
        "keys stored in the database. Keep a copy: without it the keys cannot be read.",
        "example:\n  echo FEDI_TOWN_KEY_ENCRYPTION_KEYS=$(fedi-town new-key-encryption-key) \\\n"
        "      | sudo tee -a /etc/fedi-town/fedi-town.env",
    ),
    "rotate-keys": (
        "Re-encrypt every stored private key with the first key of "
        "FEDI_TOWN_KEY_ENCRYPTION_KEYS. Put the new key first, the old one after it, run "
        "this, then drop the old key.",
        "example:\n"
        "  FEDI_TOWN_KEY_ENCRYPTION_KEYS=NEW,OLD fedi-town rotate-keys --env-file "
        "/etc/fedi-town/fedi-town.env",
    ),
    "list-businesses": (
        "List the businesses of this instance: username, handle, accepted followers, "
        "published public posts and when each was created (UTC).",
        "examples:\n"
        "  fedi-town list-businesses\n"
        "  fedi-town list-businesses --json | jq '.[].handle'",
    ),
    "doctor": (
        "Check the setup and print one line per check, ✓ or ✗ with what to fix: settings, "
        "database, migrations, key encryption keys, media folder (or S3 bucket), SQLite file "
        "mode, https base URL, the instance reachable at its own public URL, clock, admin "
        "token. Nothing is changed (a bucket's probe object is deleted at once). Exits 0 "
        "when every check passes, 1 otherwise.",
        "example:\n  sudo -u fedi-town /opt/fedi-town/bin/fedi-town doctor "
        "--env-file /etc/fedi-town/fedi-town.env",
    ),
    "backup": (
        "Write one .tar.gz with every table's rows and the media files, taken as one "
        "consistent snapshot while the instance keeps serving. Private keys stay sealed: "
        "keep FEDI_TOWN_KEY_ENCRYPTION_KEYS and FEDI_TOWN_ADMIN_TOKEN separately, they are "
        "not in the backup. See docs/backups.md.",
        "example:\n  fedi-town backup --to /var/backups/fedi-town/$(date +%F).tar.gz "
        "--env-file /etc/fedi-town/fedi-town.env",
    ),
    "restore": (
        "Restore ARCHIVE into the configured database (migrated, with no business yet) and "
        "media storage (folder or S3 bucket). Checks first that the archive is whole, not "
        "from a newer fedi-town, and that FEDI_TOWN_KEY_ENCRYPTION_KEYS opens its keys; "
        "writes nothing otherwise. See docs/backups.md.",
        "example:\n  fedi-town restore fedi-town-backup-20261207-040000.tar.gz "
        "--env-file /etc/fedi-town/fedi-town.env",
    ),
    "copy-database": (
        "Copy every row of the configured database into the empty database at --to "
        "(migrated first), in one transaction, and verify each table's count. Media files "
        "are not moved. Stop the service first. See docs/backups.md.",
        "example:\n  fedi-town copy-database --to postgresql://fedi-town@localhost/fedi-town "
        "--env-file /etc/fedi-town/fedi-town.env",
    ),
    "export-business": (
        "Write one business (profile, hours, notice, offers, events, posts with their "
        "images, settings, and its follower list for reference) to one .tar.gz, to move it "
        "to another server: import it there with `fedi-town import-business`. Keys and "
        "the owner token are not in it. Safe while the instance serves. See docs/moving.md.",
        "example:\n  fedi-town export-business bakery --out bakery.tar.gz "
        "--env-file /etc/fedi-town/fedi-town.env",
    ),
    "import-business": (
        "Create a business from an archive of `fedi-town export-business`, under its own "
        "username or --username NEW, with NEW keys (a new actor id gets a new key) and a new "
        "owner token, printed once. All or nothing, in one transaction; refuses a taken "
        "username or a damaged archive. Works while the instance serves. Followers come "
        "over when the old account sends Move. See docs/moving.md.",
        "example:\n  fedi-town import-business bakery.tar.gz --username corner_bakery "
        "--env-file /etc/fedi-town/fedi-town.env",
    ),
}
SECRETS_NOT_IN_BACKUP = (
    "NOT in the backup: FEDI_TOWN_KEY_ENCRYPTION_KEYS (without it the private keys in the "
    "backup cannot be opened) and FEDI_TOWN_ADMIN_TOKEN. Keep them separately."
)


def _rows_per_table(counts: dict[str, int]) -> None:
    for table, rows in counts.items():
        print(f"  {table:<22} {rows:>9}")


def cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings()
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    destination = Path(args.to or f"fedi-town-backup-{stamp}.tar.gz")

    async def run(report: progress.Update) -> archive.Manifest:
        services = await _with_store(settings)
        try:
            return await archive.backup(services.store, services.media, destination, report)
        finally:
            await services.store.disconnect()

    started = time.monotonic()
    with progress.reporter("backup", quiet=args.quiet) as report:
        manifest = asyncio.run(run(report.update))
    size = destination.stat().st_size
    if args.quiet:
        _warn_missing_media(manifest, settings)
        return 0
    print(f"rows per table in {destination}:")
    _rows_per_table(manifest.counts)
    print(
        f"wrote {destination}: {sum(manifest.counts.values())} rows, "
        f"{manifest.media_files} media files, {size:,} bytes, schema "
        f"{manifest.schema_version}, in {time.monotonic() - started:.1f} s"
    )
    _warn_missing_media(manifest, settings)
    print(SECRETS_NOT_IN_BACKUP)
    return 0


def _warn_missing_media(manifest: archive.Manifest, settings: Settings) -> None:
    if manifest.missing_media:
        print(
            f"warning: {len(manifest.missing_media)} media file(s) named in the database "
            f"were not in {media_store(settings).describe()}",
            file=sys.stderr,
        )


def cmd_restore(args: argparse.Namespace) -> int:
    settings = _settings()
    ring = keys_at_rest.keyring_of(settings)

    async def run(report: progress.Update) -> archive.Manifest:
        services = await _with_store(settings)
        try:
            return await archive.restore(
                services.store, services.media, Path(args.archive), ring, report
            )
        finally:
            await services.store.disconnect()

    with progress.reporter("restore", quiet=args.quiet) as report:
        manifest = asyncio.run(run(report.update))
    if args.quiet:
        return 0
    print(f"restored from {args.archive} (rows per table):")
    _rows_per_table(manifest.counts)
    print(
        f"restored {sum(manifest.counts.values())} rows and {manifest.media_files} media "
        f"files from a backup of {manifest.created_at} (fedi-town "
        f"{manifest.fedi_town_version}, {manifest.source}); counts verified"
    )
    return 0


def cmd_copy_database(args: argparse.Namespace) -> int:
    settings = _settings()
    if not args.to.startswith(("postgresql://", "postgres://", "sqlite:///")):
        print("--to must be a postgresql:// or sqlite:/// URL", file=sys.stderr)
        return 2

    async def run(report: progress.Update) -> tuple[dict[str, int], dict[str, int]]:
        services = await _with_store(settings)
        target = Store(args.to)
        try:
            await target.connect()
            await migrate(target)
            return await archive.copy_database(services.store, target, report)
        finally:
            await target.disconnect()
            await services.store.disconnect()

    with progress.reporter("copy-database", quiet=args.quiet) as report:
        source, found = asyncio.run(run(report.update))
    if args.quiet:
        return 0
    print(f"{'table':<22} {'source':>9} {'copied':>9}")
    for table, rows in source.items():
        print(f"{table:<22} {rows:>9} {found.get(table, 0):>9}")
    print(
        f"copied {sum(found.values())} rows; every table's count verified. Media files stay "
        f"in {media_store(settings).describe()}; point FEDI_TOWN_DATABASE_URL at the new database."
    )
    return 0


def cmd_export_business(args: argparse.Namespace) -> int:
    settings = _settings()
    destination = Path(args.out)

    async def run() -> business_archive.Manifest:
        services = await _with_store(settings)
        try:
            return await business_archive.export_business(
                services.store, services.urls, services.media, args.username, destination
            )
        finally:
            await services.store.disconnect()

    manifest = asyncio.run(run())
    counts = manifest.counts
    print(
        f"wrote {destination}: {manifest.source['handle']} with {counts['posts']} posts, "
        f"{manifest.media_files} images, {counts['offers']} offers, {counts['events']} events "
        f"and a list of {counts['followers']} followers (for reference: they move over when "
        "you send Move, see docs/moving.md). Keys and the owner token are not in it."
    )
    return 0


def cmd_import_business(args: argparse.Namespace) -> int:
    settings = _settings()

    async def run() -> tuple[business_archive.Imported, str, str]:
        services = await _with_store(settings)
        try:
            private_pem, public_pem = generate_rsa_keypair()  # a new actor id: new keys
            token = new_owner_token()
            new = business_archive.NewIdentity(
                username=args.username,
                sealed_private_key=services.sealed_keys.seal(private_pem),
                public_key_pem=public_pem,
                owner_token_hash=hash_token(token),
            )
            imported = await business_archive.import_business(
                services.store,
                services.urls,
                services.media,
                Path(args.archive),
                new,
                now=services.now_ms(),
            )
            return imported, services.urls.actor(imported.username), token
        finally:
            await services.store.disconnect()

    imported, actor, token = asyncio.run(run())
    counts, source = imported.counts, imported.manifest.source
    print(
        f"imported {source['handle']} as {actor}: {counts['posts']} posts, "
        f"{counts['media']} images, {counts['offers']} offers, {counts['events']} events, "
        "with new keys\n"
        f"owner token (shown once): {token}\n"
        f"next: name the old account on the new one (PUT /api/v1/businesses/"
        f'{imported.username}/aliases with {{"also_known_as": ["{source["actor"]}"]}}),'
        " then move the old account there; see docs/moving.md"
    )
    return 0


def _add_moving_commands(sub: Any) -> None:
    export = sub.add_parser(
        "export-business", help="write one business to an archive, to move it elsewhere"
    )
    export.add_argument("username")
    export.add_argument("--out", required=True, help="the archive to write (.tar.gz)")
    export.set_defaults(func=cmd_export_business)

    imports = sub.add_parser(
        "import-business", help="create a business from an archive of export-business"
    )
    imports.add_argument("archive", help="a file written by fedi-town export-business")
    imports.add_argument(
        "--username", default=None, help="the username here (default: the archive's)"
    )
    imports.set_defaults(func=cmd_import_business)


def _add_backup_commands(sub: Any) -> None:
    backup = sub.add_parser(
        "backup",
        help="write a consistent backup (database rows and media) while the instance serves",
        description="Write one .tar.gz with every table's rows and the media files, taken "
        "as one consistent snapshot while the instance keeps serving. Private keys stay "
        "sealed: keep FEDI_TOWN_KEY_ENCRYPTION_KEYS and FEDI_TOWN_ADMIN_TOKEN separately, "
        "they are not in the backup. See docs/backups.md.",
    )
    backup.add_argument(
        "--to",
        default=None,
        help="archive path (default: fedi-town-backup-YYYYMMDD-HHMMSS.tar.gz here)",
    )
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser(
        "restore",
        help="restore a backup into an empty instance (either database backend)",
        description="Restore ARCHIVE into the configured database (migrated, with no "
        "business yet) and media storage (folder or S3 bucket). Checks first that the "
        "archive is whole, not "
        "from a newer fedi-town, and that FEDI_TOWN_KEY_ENCRYPTION_KEYS opens its keys; "
        "writes nothing otherwise. See docs/backups.md.",
    )
    restore.add_argument("archive", help="a file written by fedi-town backup")
    restore.set_defaults(func=cmd_restore)

    copy = sub.add_parser(
        "copy-database",
        help="copy every row into another database (e.g. SQLite to PostgreSQL)",
        description="Copy every row of the configured database into the empty database at "
        "--to (migrated first), in one transaction, and verify each table's count. Media "
        "files are not moved. See docs/backups.md.",
    )
    copy.add_argument("--to", required=True, help="postgresql://user@host/db (or sqlite:///path)")
    copy.set_defaults(func=cmd_copy_database)
    for command in (backup, restore, copy):
        command.add_argument(
            "--quiet",
            action="store_true",
            help="print nothing but warnings and errors (no progress, no summary); progress "
            "is a bar on a terminal, a line every few seconds elsewhere",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedi-town",
        description="Local businesses on the fediverse. Settings come from FEDI_TOWN_* "
        "environment variables\n(see README), filled in from --env-file PATH when given.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web server (and the in-process worker)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="local demo: make an admin token and a key encryption key in data/, create "
        "the demo business if none",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="web processes on the same port (PostgreSQL only; default: "
        "FEDI_TOWN_WEB_WORKERS, else 1)",
    )
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser("migrate", help="apply pending database migrations")
    mig.set_defaults(func=cmd_migrate)

    create = sub.add_parser("create-business", help="create a business, print its owner token")
    create.add_argument("username")
    create.add_argument("--display-name", default=None)
    create.add_argument("--summary", default=None)
    create.set_defaults(func=cmd_create_business)

    invite = sub.add_parser(
        "invite", help="print a single-use sign-in link for the owner's web app"
    )
    invite.add_argument("--business", default=None, help="the business's username")
    invite.add_argument("--role", choices=["owner", "staff"], default="owner")
    invite.add_argument("--admin", action="store_true", help="invite an instance admin")
    invite.set_defaults(func=cmd_invite)

    token = sub.add_parser("token", help="issue a new owner token for a business")
    token.add_argument("username")
    token.set_defaults(func=cmd_token)

    work = sub.add_parser(
        "worker", help="run only the background worker (several may share a PostgreSQL queue)"
    )
    work.set_defaults(func=cmd_worker)

    new_key = sub.add_parser(
        "new-key-encryption-key", help="print a fresh key for FEDI_TOWN_KEY_ENCRYPTION_KEYS"
    )
    new_key.set_defaults(func=cmd_new_key_encryption_key)

    rotate = sub.add_parser(
        "rotate-keys", help="re-encrypt every stored private key with the first encryption key"
    )
    rotate.set_defaults(func=cmd_rotate_keys)

    listing = sub.add_parser("list-businesses", help="list the businesses with their counts")
    listing.add_argument("--json", action="store_true", help="print a JSON array instead")
    listing.set_defaults(func=cmd_list_businesses)

    check = sub.add_parser("doctor", help="check the setup and say what to fix")
    check.add_argument(
        "--timeout",
        type=float,
        default=doctor.TIMEOUT_S,
        help="seconds the database and the instance's own URL have to answer (default: "
        "%(default)g)",
    )
    check.set_defaults(func=cmd_doctor)

    _add_backup_commands(sub)
    _add_moving_commands(sub)
    _add_common_options(parser, sub)
    return parser


def _version() -> str:
    """The installed package's version (its metadata), or the source's when not installed."""
    try:
        return importlib.metadata.version("fedi-town")
    except importlib.metadata.PackageNotFoundError:
        return __version__


def _add_common_options(
    parser: argparse.ArgumentParser, sub: argparse._SubParsersAction[argparse.ArgumentParser]
) -> None:
    """``--version``; ``--env-file`` on the command and on every subcommand (before or after
    its name); each subcommand's description and example from ``COMMAND_HELP``."""
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.epilog = "example:\n  fedi-town doctor --env-file /etc/fedi-town/fedi-town.env"
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    env_help = (
        "read FEDI_TOWN_* settings from this systemd-style KEY=VALUE file (e.g. "
        "/etc/fedi-town/fedi-town.env); variables already set in the environment win"
    )
    # SUPPRESS: a subcommand's default must not overwrite a value given before its name
    parser.add_argument("--env-file", type=Path, default=argparse.SUPPRESS, help=env_help)
    for name, command in sub.choices.items():
        command.add_argument("--env-file", type=Path, default=argparse.SUPPRESS, help=env_help)
        if name in COMMAND_HELP:
            description, command.epilog = COMMAND_HELP[name]
            command.description = textwrap.fill(description, 88)
            command.formatter_class = argparse.RawDescriptionHelpFormatter


def _read_env_file(args: argparse.Namespace) -> None:
    """Fill in the environment from ``--env-file``; the real environment wins."""
    path: Path | None = getattr(args, "env_file", None)
    if path is not None:
        envfile.fill_in(os.environ, envfile.read(path))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fedi-town`` console script."""
    args = build_parser().parse_args(argv)
    try:
        _read_env_file(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    level = os.environ.get("FEDI_TOWN_LOG_LEVEL", "INFO").strip().upper()
    form = os.environ.get("FEDI_TOWN_LOG_FORMAT", "plain").strip().lower()
    # A bad value is refused by Settings with a message naming it; log at INFO, plain, until.
    configure_logging(
        level if level in LOG_LEVELS else "INFO", form if form in LOG_FORMS else "plain"
    )
    try:
        result: int = args.func(args)
        return result
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except ProblemError as exc:
        print(f"error: {lifecycle.describe_failure(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
