"""Settings: the only reader of the environment.

``Settings.from_env(os.environ)`` is called once at start; everything else receives the
frozen result. A bad value raises ``ConfigError`` naming its key. Every setting is listed in
``SETTINGS_DOC`` and must appear in the README's settings table (tests/test_docs.py).
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fedi_town.errors import ConfigError
from fedi_town.logs import FORMS as LOG_FORMS

PREFIX = "FEDI_TOWN_"
#: the values of ``FEDI_TOWN_LOG_LEVEL``
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

#: The most web processes ``serve`` starts (``FEDI_TOWN_WEB_WORKERS``, ``--workers``).
MAX_WEB_WORKERS = 64
#: The most signing threads (``FEDI_TOWN_SIGN_THREADS``); the default uses at most 4.
MAX_SIGN_THREADS = 64


def default_sign_threads(cpus: int | None = None) -> int:
    """Signing threads when ``FEDI_TOWN_SIGN_THREADS`` is unset: one per CPU up to 4, and
    none on a single CPU (a thread there only adds its hand-over to the signing)."""
    count = os.cpu_count() if cpus is None else cpus
    return 0 if (count or 1) < 2 else min(4, count or 1)


#: name (without prefix) -> one-line description; the README table must list each one.
SETTINGS_DOC: dict[str, str] = {
    "BASE_URL": "Public URL of the instance (https; http only for local use).",
    "DATABASE_URL": "sqlite:///path or postgresql://user@host/db.",
    "ADMIN_TOKEN": "Instance admin bearer token (required unless running the demo).",
    "HOST": "Address uvicorn binds to.",
    "PORT": "Port uvicorn binds to.",
    "MEDIA_DIR": "Directory where uploaded media is stored and served from (local storage).",
    "MEDIA_STORAGE": "Where uploaded media is kept: this machine's MEDIA_DIR, or S3 (local|s3).",
    "S3_ENDPOINT": "URL of the S3-compatible service (empty: Amazon S3 in S3_REGION).",
    "S3_BUCKET": "Bucket holding the media (required with MEDIA_STORAGE=s3).",
    "S3_REGION": "Region of the bucket (what the service says; MinIO: us-east-1).",
    "S3_ACCESS_KEY_ID": "Access key id for the bucket (required with MEDIA_STORAGE=s3).",
    "S3_SECRET_ACCESS_KEY": "Secret of that access key (required with MEDIA_STORAGE=s3).",
    "S3_PUBLIC_URL": "Public URL of the bucket or its CDN: media GETs redirect there.",
    "ALLOW_PRIVATE_ADDRESSES": "Fetch from / deliver to loopback and private addresses.",
    "AUTHORIZED_FETCH": "Refuse unsigned GETs of ActivityPub documents.",
    "INSTANCE_NAME": "Name shown on the front page and in NodeInfo.",
    "INSTANCE_DESCRIPTION": "Short description for the front page and NodeInfo.",
    "SOFTWARE_REPOSITORY": "URL where the source this instance runs is published (NodeInfo).",
    "SOFTWARE_HOMEPAGE": "URL of the software's home page (NodeInfo).",
    "TIMEZONE": "IANA time zone of a business that names none (hours, post times).",
    "MAX_BODY_BYTES": "Largest request body accepted on inboxes and the admin API.",
    "SIGNATURE_MAX_SKEW": "Seconds a signed Date may differ from our clock.",
    "WORKER": "Run the delivery/inbox worker inside the web process (in-process|off).",
    "LOG_LEVEL": "Python logging level.",
    "LOG_FORMAT": "Log lines as plain text or JSON objects (plain|json).",
    "ACCESS_LOG": "Log a line per HTTP request (off: the reverse proxy logs them).",
    "KEY_ENCRYPTION_KEYS": "Keys that encrypt private keys at rest; the first encrypts.",
    "INBOX_HOST_RATE": "Activities per second one remote host may send, sustained.",
    "INBOX_HOST_BURST": "Activities one remote host may send at once above its rate.",
    "INBOX_MAX_BACKLOG": "Unhandled inbox items above which inboxes answer 503.",
    "RETENTION_DAYS": "Days handled inbox items and finished deliveries are kept.",
    "TIMELINE_DAYS": "Days posts of followed accounts stay in a business's home timeline.",
    "REQUEST_TIMEOUT": "Seconds a client has to send its request headers, then its body.",
    "METRICS_TOKEN": "Bearer token of GET /metrics (Prometheus); unset: no metrics at all.",
    "METRICS_DIR": "Directory the processes of one instance share their metrics in.",
    "WEB_WORKERS": "Web processes serve runs on one port (above 1: PostgreSQL only).",
    "SIGN_THREADS": "Threads that sign deliveries beside the event loop (0: on the loop).",
}


def _bool(key: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{PREFIX}{key} must be true or false, got {raw!r}")


def _int(key: str, raw: str, lo: int, hi: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{PREFIX}{key} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{PREFIX}{key} must be between {lo} and {hi}, got {value}")
    return value


def _encryption_keys(raw: str) -> tuple[str, ...]:
    """Comma-separated Fernet keys (32 bytes, URL-safe base64 each), newest first."""
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    for key in keys:
        try:
            decoded = base64.urlsafe_b64decode(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            decoded = b""
        if len(decoded) != 32:
            raise ConfigError(
                f"{PREFIX}KEY_ENCRYPTION_KEYS must be comma-separated keys made by "
                "`fedi-town new-key-encryption-key` (32 bytes, URL-safe base64 each)"
            )
    return keys


def _zone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{PREFIX}TIMEZONE must be an IANA time zone such as Europe/Berlin, got {raw!r}"
        ) from None
    return raw


def _base_url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"{PREFIX}BASE_URL must be an http(s) URL, got {raw!r}")
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.username:
        raise ConfigError(f"{PREFIX}BASE_URL must be scheme://host[:port] only, got {raw!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _http_url(key: str, raw: str) -> str:
    """An http(s) URL without query or fragment, trailing slash dropped."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"{PREFIX}{key} must be an http(s) URL, got {raw!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{PREFIX}{key} must be scheme://host[:port][/path] only")
    return raw.strip().rstrip("/")


def _s3(settings: Settings) -> None:
    """With ``MEDIA_STORAGE=s3``, what the bucket needs must be there: name what is missing
    (never the secret's value)."""
    if settings.media_storage != "s3":
        return
    for key, value in (
        ("S3_BUCKET", settings.s3_bucket),
        ("S3_ACCESS_KEY_ID", settings.s3_access_key_id),
        ("S3_SECRET_ACCESS_KEY", settings.s3_secret_access_key),
    ):
        if not value:
            raise ConfigError(f"{PREFIX}{key} is required when {PREFIX}MEDIA_STORAGE=s3")


def _database_url(raw: str) -> str:
    scheme = raw.split(":", 1)[0]
    if scheme not in {"sqlite", "postgresql", "postgres"}:
        raise ConfigError(
            f"{PREFIX}DATABASE_URL must start with sqlite:// or postgresql://, got {scheme!r}"
        )
    if scheme == "postgres":
        raw = "postgresql" + raw[len("postgres") :]
    return raw


@dataclass(frozen=True)
class Settings:
    """Everything fedi-town reads from its environment, validated."""

    base_url: str = "http://127.0.0.1:8000"
    database_url: str = "sqlite:///data/fedi-town.sqlite3"
    admin_token: str = field(default="", repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    media_dir: Path = Path("data/media")
    allow_private_addresses: bool = False
    authorized_fetch: bool = False
    instance_name: str = "fedi-town"
    instance_description: str = "Local businesses on the fediverse."
    #: NodeInfo 2.1's software links, when the installed package publishes none
    software_repository: str = ""
    software_homepage: str = ""
    #: the zone of a business that names none (IANA name)
    timezone: str = "UTC"
    max_body_bytes: int = 1_048_576
    signature_max_skew: int = 3600
    worker: str = "in-process"
    log_level: str = "INFO"
    #: "plain" or "json" (``logs.FORMS``)
    log_format: str = "plain"
    #: uvicorn's line per request; off by default, as the reverse proxy logs every request
    access_log: bool = False
    key_encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    inbox_host_rate: int = 50
    inbox_host_burst: int = 2000
    inbox_max_backlog: int = 200_000
    #: days finished queue rows are kept, for every queue; None: each queue's own
    #: ``delete_after_ms`` (store/queue.py: 7 days)
    retention_days: int | None = None
    #: days a home timeline entry (a followed account's post or boost) is kept
    timeline_days: int = 30
    request_timeout: int = 15
    #: the bearer token of ``GET /metrics``; empty: metrics off (``fedi_town.metrics``)
    metrics_token: str = field(default="", repr=False)
    #: where every process writes its counts for ``/metrics`` to sum (multiprocess mode)
    metrics_dir: Path | None = None
    #: "local" (``media_dir``) or "s3" (the bucket below); see media/storage.py
    media_storage: str = "local"
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = field(default="", repr=False)
    #: media GETs answer a redirect to ``s3_public_url`` + the file name; "": streamed by us
    s3_public_url: str = ""
    #: web processes ``serve`` runs (``supervisor``); above 1 needs PostgreSQL, which
    #: ``serve`` checks (not here: backup or copy-database still run on the SQLite file)
    web_workers: int = 1
    #: threads signing outgoing requests (``remote.http.RemoteClient``); 0: on the event loop
    sign_threads: int = field(default_factory=default_sign_threads)

    @property
    def domain(self) -> str:
        """Host (with port when the base URL has one), as used in handles and WebFinger."""
        return urlsplit(self.base_url).netloc

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from ``environ``; unknown ``FEDI_TOWN_*`` keys are an error."""
        known = {PREFIX + k for k in SETTINGS_DOC}
        unknown = sorted(k for k in environ if k.startswith(PREFIX) and k not in known)
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]} (see README, Settings)")

        def get(key: str) -> str | None:
            return environ.get(PREFIX + key)

        kwargs: dict[str, object] = {}
        if (v := get("BASE_URL")) is not None:
            kwargs["base_url"] = _base_url(v)
        if (v := get("DATABASE_URL")) is not None:
            kwargs["database_url"] = _database_url(v)
        if (v := get("ADMIN_TOKEN")) is not None:
            if v and len(v) < 16:
                raise ConfigError(f"{PREFIX}ADMIN_TOKEN must be at least 16 characters")
            kwargs["admin_token"] = v
        if (v := get("HOST")) is not None:
            kwargs["host"] = v
        if (v := get("PORT")) is not None:
            kwargs["port"] = _int("PORT", v, 1, 65535)
        if (v := get("MEDIA_DIR")) is not None:
            kwargs["media_dir"] = Path(v)
        if (v := get("ALLOW_PRIVATE_ADDRESSES")) is not None:
            kwargs["allow_private_addresses"] = _bool("ALLOW_PRIVATE_ADDRESSES", v)
        if (v := get("AUTHORIZED_FETCH")) is not None:
            kwargs["authorized_fetch"] = _bool("AUTHORIZED_FETCH", v)
        if (v := get("INSTANCE_NAME")) is not None:
            kwargs["instance_name"] = v
        if (v := get("INSTANCE_DESCRIPTION")) is not None:
            kwargs["instance_description"] = v
        if v := get("SOFTWARE_REPOSITORY"):
            kwargs["software_repository"] = _http_url("SOFTWARE_REPOSITORY", v)
        if v := get("SOFTWARE_HOMEPAGE"):
            kwargs["software_homepage"] = _http_url("SOFTWARE_HOMEPAGE", v)
        if (v := get("TIMEZONE")) is not None:
            kwargs["timezone"] = _zone(v)
        if (v := get("MAX_BODY_BYTES")) is not None:
            kwargs["max_body_bytes"] = _int("MAX_BODY_BYTES", v, 1024, 100 * 1_048_576)
        if (v := get("SIGNATURE_MAX_SKEW")) is not None:
            kwargs["signature_max_skew"] = _int("SIGNATURE_MAX_SKEW", v, 30, 43_200)
        if (v := get("WORKER")) is not None:
            if v not in {"in-process", "off"}:
                raise ConfigError(f"{PREFIX}WORKER must be in-process or off, got {v!r}")
            kwargs["worker"] = v
        if (v := get("LOG_LEVEL")) is not None:
            if v.strip().upper() not in LOG_LEVELS:
                raise ConfigError(
                    f"{PREFIX}LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {v!r}"
                )
            kwargs["log_level"] = v.strip().upper()
        if (v := get("LOG_FORMAT")) is not None:
            if v.strip().lower() not in LOG_FORMS:
                raise ConfigError(f"{PREFIX}LOG_FORMAT must be plain or json, got {v!r}")
            kwargs["log_format"] = v.strip().lower()
        if (v := get("ACCESS_LOG")) is not None:
            kwargs["access_log"] = _bool("ACCESS_LOG", v)
        if (v := get("KEY_ENCRYPTION_KEYS")) is not None:
            kwargs["key_encryption_keys"] = _encryption_keys(v)
        if (v := get("INBOX_HOST_RATE")) is not None:
            kwargs["inbox_host_rate"] = _int("INBOX_HOST_RATE", v, 1, 1_000_000)
        if (v := get("INBOX_HOST_BURST")) is not None:
            kwargs["inbox_host_burst"] = _int("INBOX_HOST_BURST", v, 1, 10_000_000)
        if (v := get("INBOX_MAX_BACKLOG")) is not None:
            kwargs["inbox_max_backlog"] = _int("INBOX_MAX_BACKLOG", v, 100, 100_000_000)
        if (v := get("RETENTION_DAYS")) is not None:
            kwargs["retention_days"] = _int("RETENTION_DAYS", v, 1, 3650)
        if (v := get("TIMELINE_DAYS")) is not None:
            kwargs["timeline_days"] = _int("TIMELINE_DAYS", v, 1, 3650)
        if (v := get("REQUEST_TIMEOUT")) is not None:
            kwargs["request_timeout"] = _int("REQUEST_TIMEOUT", v, 1, 600)
        if (v := get("METRICS_TOKEN")) is not None:
            if v and len(v) < 16:
                raise ConfigError(f"{PREFIX}METRICS_TOKEN must be at least 16 characters")
            kwargs["metrics_token"] = v
        if (v := get("METRICS_DIR")) is not None and v.strip():
            kwargs["metrics_dir"] = Path(v.strip())
        if (v := get("MEDIA_STORAGE")) is not None:
            if v.strip().lower() not in {"local", "s3"}:
                raise ConfigError(f"{PREFIX}MEDIA_STORAGE must be local or s3, got {v!r}")
            kwargs["media_storage"] = v.strip().lower()
        if v := get("S3_ENDPOINT"):
            kwargs["s3_endpoint"] = _http_url("S3_ENDPOINT", v)
        if (v := get("S3_BUCKET")) is not None:
            kwargs["s3_bucket"] = v.strip()
        if v := get("S3_REGION"):
            kwargs["s3_region"] = v.strip()
        if (v := get("S3_ACCESS_KEY_ID")) is not None:
            kwargs["s3_access_key_id"] = v.strip()
        if (v := get("S3_SECRET_ACCESS_KEY")) is not None:
            kwargs["s3_secret_access_key"] = v.strip()
        if v := get("S3_PUBLIC_URL"):
            kwargs["s3_public_url"] = _http_url("S3_PUBLIC_URL", v)
        if (v := get("WEB_WORKERS")) is not None:
            kwargs["web_workers"] = _int("WEB_WORKERS", v, 1, MAX_WEB_WORKERS)
        if (v := get("SIGN_THREADS")) is not None and v.strip():
            kwargs["sign_threads"] = _int("SIGN_THREADS", v.strip(), 0, MAX_SIGN_THREADS)
        settings = cls(**kwargs)  # type: ignore[arg-type]
        _s3(settings)
        if settings.base_url.startswith("http://") and not settings.allow_private_addresses:
            host = urlsplit(settings.base_url).hostname or ""
            if host not in {"127.0.0.1", "localhost", "::1"} and not host.endswith(".localhost"):
                raise ConfigError(
                    f"{PREFIX}BASE_URL must use https for a public host (http is for local use)"
                )
        return settings


def new_token() -> str:
    """A fresh random bearer token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)
