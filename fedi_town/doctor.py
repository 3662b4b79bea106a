"""``fedi-town doctor``: check an instance's setup and say what to fix.

Each check is a small function returning a frozen ``Check`` (testable alone); ``run`` calls
them in order and never raises: a failure it did not foresee becomes a ✗ line too.

    settings       the FEDI_TOWN_* variables load (a bad value names its variable)
    database       the database answers (a SQLite file must exist: ``fedi-town migrate``)
    migrations     none pending
    keys           FEDI_TOWN_KEY_ENCRYPTION_KEYS is set and opens every stored private key
    media          FEDI_TOWN_MEDIA_DIR exists, is writable by this user, not world-readable;
                   or, with FEDI_TOWN_MEDIA_STORAGE=s3, a small probe object can be written
                   to the bucket, read back and deleted
    sqlite file    mode 0600 (other local users cannot read keys and token hashes)
    base URL       https for a public host
    own URL        GET <FEDI_TOWN_BASE_URL>/.well-known/nodeinfo through the public URL
                   answers with our NodeInfo (else: what the proxy is likely doing wrong)
    clock          set, and within a minute of the Date that answer carried
    admin token    FEDI_TOWN_ADMIN_TOKEN is set

Nothing is written (but the bucket's probe object, deleted at once): the doctor neither
creates the database nor migrates nor seals keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import stat
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from fedi_town import lifecycle
from fedi_town.errors import ConfigError
from fedi_town.media.storage import MediaStore, MediaUnavailable
from fedi_town.protocol.sealed import CannotOpen, is_sealed
from fedi_town.remote import probe as probing
from fedi_town.remote.probe import Probe
from fedi_town.services import media_store
from fedi_town.settings import PREFIX, Settings
from fedi_town.store import businesses, health, keys_at_rest
from fedi_town.store.db import Store
from fedi_town.store.migrations import pending

Status = Literal["pass", "fail", "skip"]
MARKS: dict[Status, str] = {"pass": "✓", "fail": "✗", "skip": "–"}

#: Seconds our clock may differ from the Date our own URL answers with.
CLOCK_TOLERANCE_S = 60
#: Seconds the database and our own URL have to answer.
TIMEOUT_S = 5.0
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report: passed, failed (``message`` says what to fix) or
    skipped (``message`` says why)."""

    name: str
    status: Status
    message: str

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def line(self) -> str:
        return f"{MARKS[self.status]} {self.name}: {self.message}"


def _pass(name: str, message: str) -> Check:
    return Check(name, "pass", message)


def _fail(name: str, message: str) -> Check:
    return Check(name, "fail", message)


def _skip(name: str, message: str) -> Check:
    return Check(name, "skip", message)


def load_settings(environ: Mapping[str, str]) -> tuple[Check, Settings | None]:
    """The settings from ``environ``, or a failed check naming the bad variable."""
    try:
        settings = Settings.from_env(environ)
    except ConfigError as exc:
        return _fail("settings", str(exc)), None
    return _pass("settings", "every FEDI_TOWN_* variable is valid"), settings


async def database(store: Store, wait_s: float = TIMEOUT_S) -> Check:
    """Connect ``store`` (the caller disconnects it); a missing SQLite file is not made."""
    where = _shown_url(store.url)
    if store.path is not None and not store.path.exists():
        return _fail(
            "database",
            f"no database file at {store.path}: run `fedi-town migrate` (or fix "
            f"{PREFIX}DATABASE_URL)",
        )
    problem = health.sqlite_file_problem(store.path) if store.path is not None else None
    if problem is not None:
        return _fail("database", problem)
    try:
        await asyncio.wait_for(store.connect(), wait_s)
        await store.fetch_val("SELECT 1")
    except TimeoutError:
        return _fail("database", f"{where} did not answer within {wait_s:g} s")
    except Exception as exc:
        return _fail(
            "database",
            f"cannot use {where}: {lifecycle.describe_failure(exc)} "
            f"(check {PREFIX}DATABASE_URL and that the database server is running)",
        )
    return _pass("database", f"{where} answers")


async def migrations(store: Store) -> Check:
    """No migration pending on the connected ``store``."""
    waiting = await pending(store)
    if waiting:
        return _fail(
            "migrations",
            f"{len(waiting)} pending ({', '.join(map(str, waiting))}): run `fedi-town migrate`",
        )
    return _pass("migrations", "the database schema is current")


def key_setting(settings: Settings) -> Check:
    """Only whether the key encryption keys are set (before the database is migrated)."""
    if not settings.key_encryption_keys:
        return _fail("keys", keys_at_rest.MISSING)
    return _skip(
        "keys",
        f"{keys_at_rest.SETTING} is set; the stored keys are checked once the database is migrated",
    )


async def stored_keys(store: Store, settings: Settings) -> Check:
    """The key encryption keys are set and open every private key in the database."""
    setting = keys_at_rest.SETTING
    try:
        ring = keys_at_rest.keyring_of(settings)
    except ConfigError as exc:
        return _fail("keys", str(exc))
    stored = [value for _id, value in await businesses.private_keys(store)]
    instance = await businesses.get_kv(store, keys_at_rest.INSTANCE_KEY)
    if instance is not None:
        stored.append(json.loads(instance)["private"])
    sealed = [value for value in stored if is_sealed(value)]
    for value in sealed:
        try:
            ring.open(value)
        except CannotOpen:
            return _fail("keys", keys_at_rest.WRONG)
    plain = len(stored) - len(sealed)
    if plain:
        return _pass(
            "keys",
            f"{setting} opens {len(sealed)} stored key(s); {plain} stored unencrypted are "
            "sealed at the next start",
        )
    return _pass("keys", f"{setting} opens all {len(sealed)} stored private key(s)")


def media_dir(path: Path) -> Check:
    """The media folder exists (or can be made at the first upload), this user can write
    it, and other users cannot read it."""
    user = _user()
    if not path.exists():
        parent = path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if parent.is_dir() and os.access(parent, os.W_OK | os.X_OK, effective_ids=True):
            return _pass("media", f"{path} does not exist yet; it is made at the first upload")
        return _fail(
            "media",
            f"{path} ({PREFIX}MEDIA_DIR) does not exist and {user} cannot make it: "
            f"`install -d -m 700 -o {user} {path}`",
        )
    if not path.is_dir():
        return _fail("media", f"{path} ({PREFIX}MEDIA_DIR) is not a folder")
    if not os.access(path, os.W_OK | os.X_OK, effective_ids=True):
        return _fail(
            "media",
            f"{path} is not writable by {user}: `chown -R {user} {path}`, or run the doctor as "
            "the service's user (sudo -u fedi-town ...)",
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IXOTH):
        return _fail(
            "media",
            f"{path} has mode {mode:04o}, open to every local user: `chmod o-rwx {path}` "
            "(UMask=0077 in the service keeps new files private)",
        )
    note = " (root may write anywhere: run as the service's user to check its access)"
    return _pass(
        "media",
        f"{path} is writable by {user} and private (mode {mode:04o})"
        + (note if os.geteuid() == 0 else ""),
    )


def sqlite_file(settings: Settings) -> Check:
    """A SQLite database file is readable and writable by its owner only."""
    path = Store(settings.database_url).path if settings.is_sqlite else None
    if path is None:
        return _skip("sqlite file", "not SQLite")
    if not path.exists():
        return _skip("sqlite file", f"{path} does not exist yet")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return _fail(
            "sqlite file",
            f"{path} has mode {mode:04o}: other users can read the keys and token hashes in "
            f"it: `chmod 600 {path}`",
        )
    return _pass("sqlite file", f"{path} has mode {mode:04o}")


def web_workers(settings: Settings) -> Check:
    """Several web processes need PostgreSQL: ``serve`` refuses them on SQLite, so say so
    before the service fails to start."""
    setting = f"{PREFIX}WEB_WORKERS"
    if settings.web_workers > 1 and settings.is_sqlite:
        return _fail(
            "web workers",
            f"{setting}={settings.web_workers} needs PostgreSQL; SQLite has one writer, so "
            f"`serve` refuses to start: set {setting}=1 or move to PostgreSQL "
            "(`fedi-town copy-database`)",
        )
    return _pass("web workers", f"{settings.web_workers} web process(es)")


def base_url(settings: Settings) -> Check:
    """https for a public host; http only on this machine."""
    host = urlsplit(settings.base_url).hostname or ""
    if settings.base_url.startswith("https://"):
        return _pass("base URL", f"{settings.base_url} uses https")
    if host in LOCAL_HOSTS or host.endswith(".localhost"):
        return _pass(
            "base URL",
            f"{settings.base_url} is local: fine for trying out, other servers need https "
            "on a public name",
        )
    return _fail(
        "base URL",
        f"{settings.base_url} uses http for the public host {host}: Mastodon and others "
        f"refuse it; set {PREFIX}BASE_URL=https://{host} and put Caddy or nginx with a "
        "certificate in front",
    )


def nodeinfo_url(settings: Settings) -> str:
    return f"{settings.base_url}/.well-known/nodeinfo"


def own_url(settings: Settings, answer: Probe) -> Check:
    """Our NodeInfo discovery answered through the public URL, else what is likely wrong."""
    name = "own URL"
    url = answer.url
    upstream = f"{settings.host}:{settings.port}"
    if answer.error is not None:
        hint = (
            "is `fedi-town serve` running, and the reverse proxy (Caddy or nginx) in front "
            "of it? does the name point to this server?"
        )
        if answer.error.startswith("TLS"):
            hint = "the proxy's certificate does not fit this name: check Caddy or certbot"
        elif "DNS" in answer.error:
            hint = "add a DNS record (A/AAAA) for the host pointing to this server"
        elif answer.error.startswith("no answer"):
            hint = "a firewall may drop ports 80/443, or the name points elsewhere"
        return _fail(name, f"cannot reach {url}: {answer.error}; {hint}")
    status = answer.status
    by = f" ({answer.server})" if answer.server else ""
    if status in {502, 503, 504}:
        return _fail(
            name,
            f"{url} answered {status}{by}: the proxy cannot reach fedi-town; is "
            f"`fedi-town serve` running, and does the proxy forward to {upstream} "
            f"({PREFIX}HOST:{PREFIX}PORT)?",
        )
    if status is not None and 300 <= status < 400:
        return _fail(
            name,
            f"{url} redirects to {answer.location or '?'}: set {PREFIX}BASE_URL to the URL "
            "the instance answers on (https, the same host with or without www)",
        )
    links = (answer.document or {}).get("links")
    hrefs = [
        str(link.get("href", ""))
        for link in (links if isinstance(links, list) else [])
        if isinstance(link, dict)
    ]
    if status != 200 or not hrefs:
        what = answer.content_type.split(";")[0] or "no content type"
        return _fail(
            name,
            f"{url} answered {status} ({what}){by}, not fedi-town's NodeInfo: the proxy must "
            f"forward every path, /.well-known/ included, to fedi-town at {upstream}",
        )
    ours = [href for href in hrefs if href.startswith(settings.base_url + "/")]
    if not ours:
        other = urlsplit(hrefs[0])
        return _fail(
            name,
            f"{url} answered with links to {other.scheme}://{other.netloc}: another instance "
            f"answers there, or the service runs with another {PREFIX}BASE_URL than this one",
        )
    return _pass(name, f"{url} answers with this instance's NodeInfo")


async def media_bucket(media: MediaStore, wait_s: float) -> Check:
    """Write a small object to the bucket, read it back and delete it: the three things the
    instance does with media. A failure says which step and why (never the secret)."""
    key = f"fedi-town-doctor-{os.urandom(8).hex()}.txt"
    body = b"fedi-town doctor probe\n"
    step = "write to"
    try:
        async with asyncio.timeout(3 * wait_s):
            await media.put(key, body, "text/plain")
            step = "read back from"
            if await media.get(key) != body:
                return _fail("media", f"a probe object read back from {media.describe()} differs")
            step = "delete from"
            await media.delete(key)
    except MediaUnavailable as exc:
        return _fail("media", f"{exc.detail}; check the S3 settings (README, Settings)")
    except TimeoutError:
        return _fail(
            "media",
            f"cannot {step} {media.describe()}: no answer in {3 * wait_s:.0f} s (endpoint "
            "unreachable: firewall, DNS, or the service is down)",
        )
    return _pass("media", f"wrote, read back and deleted a probe object in {media.describe()}")


def clock(answer: Probe, now: datetime) -> Check:
    """Our clock is set, and near the Date our own URL answered with."""
    if now.year < 2025:
        return _fail("clock", f"the clock says {now:%Y-%m-%d}: set it (timedatectl set-ntp true)")
    if answer.date is None:
        why = "it did not answer" if answer.error else "its answer had no Date header"
        return _skip("clock", f"not compared with {answer.url}: {why}")
    skew = (now - answer.date).total_seconds()
    if abs(skew) > CLOCK_TOLERANCE_S:
        side = "ahead of" if skew > 0 else "behind"
        return _fail(
            "clock",
            f"this machine's clock is {abs(skew):.0f} s {side} the Date {answer.url} answered "
            "with; signatures are refused when clocks differ: turn on time sync on both "
            "(timedatectl set-ntp true)",
        )
    return _pass("clock", f"within {abs(skew):.0f} s of the Date the instance's URL answered with")


def admin_token(settings: Settings) -> Check:
    setting = f"{PREFIX}ADMIN_TOKEN"
    if not settings.admin_token:
        return _fail(
            "admin token",
            f"{setting} is not set: the admin API refuses every admin call; set it to a long "
            "random string (e.g. `openssl rand -base64 32`)",
        )
    return _pass("admin token", f"{setting} is set")


async def run(
    environ: Mapping[str, str], *, now: datetime | None = None, wait_s: float = TIMEOUT_S
) -> list[Check]:
    """Every check, in order; checks that need what failed are skipped with a note."""
    loaded, settings = load_settings(environ)
    if settings is None:
        return [loaded]
    checks = [loaded, *await _database_checks(settings, wait_s)]
    if settings.media_storage == "s3":
        checks.append(await _guarded("media", media_bucket(media_store(settings), wait_s)))
    else:
        checks.append(_safe("media", media_dir, settings.media_dir))
    checks.append(_safe("sqlite file", sqlite_file, settings))
    checks.append(_safe("web workers", web_workers, settings))
    checks.append(_safe("base URL", base_url, settings))
    try:
        answer = await probing.get(nodeinfo_url(settings), wait_s=wait_s)
    except Exception as exc:  # probing.get answers network trouble itself: this is the rest
        answer = Probe(nodeinfo_url(settings), error=lifecycle.describe_failure(exc))
    checks.append(_safe("own URL", own_url, settings, answer))
    checks.append(_safe("clock", clock, answer, now or datetime.now(UTC)))
    checks.append(_safe("admin token", admin_token, settings))
    return checks


async def _database_checks(settings: Settings, wait_s: float) -> list[Check]:
    """database, migrations and keys: each later one only when the one before it passed."""
    try:
        store = Store(settings.database_url)
    except Exception as exc:
        return [_fail("database", f"{PREFIX}DATABASE_URL: {lifecycle.describe_failure(exc)}")]
    try:
        reached = await _guarded("database", database(store, wait_s))
        if reached.failed:
            return [reached, *(_skip(n, "needs the database") for n in ("migrations", "keys"))]
        migrated = await _guarded("migrations", migrations(store))
        if migrated.failed:  # the stored keys are read once the tables are there
            return [reached, migrated, _safe("keys", key_setting, settings)]
        return [reached, migrated, await _guarded("keys", stored_keys(store, settings))]
    finally:
        await _disconnect(store)


def _safe(name: str, check: Callable[..., Check], *args: Any) -> Check:
    """``check(*args)``; a failure nobody foresaw (a folder this user may not enter) becomes
    a ✗ line, not a traceback."""
    try:
        return check(*args)
    except Exception as exc:
        return _unforeseen(name, exc)


async def _guarded(name: str, check: Awaitable[Check]) -> Check:
    """``check`` awaited; a failure nobody foresaw becomes a ✗ line, not a traceback."""
    try:
        return await check
    except Exception as exc:
        return _unforeseen(name, exc)


def _unforeseen(name: str, exc: Exception) -> Check:
    if isinstance(exc, PermissionError):
        return _fail(
            name,
            f"{_user()} may not look at {exc.filename or 'a file it needs'}: run the doctor as "
            "the service's user (sudo -u fedi-town ...)",
        )
    return _fail(name, lifecycle.describe_failure(exc))


async def _disconnect(store: Store) -> None:
    with contextlib.suppress(Exception):  # a store that never connected has nothing to close
        await store.disconnect()


def _user() -> str:
    """The name of the (effective) user running the doctor."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


def _shown_url(url: str) -> str:
    """The database URL without its password (and without test-only query options)."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)
