"""One business in one file, to move it to another server and back (docs/moving.md).

    manifest.json          {"format": "fedi-town-business", "version": 1,
                            "fedi_town_version", "schema_version", "created_at",
                            "source": {"username", "actor", "handle", "profile"},
                            "counts": {"posts", "media", "offers", "events", "followers"},
                            "media": {"files": n, "bytes": n}}
    business.json          the profile, hours, notice and settings (portable columns)
    posts.jsonl            every post not deleted (published or scheduled)
    media.jsonl            its images (avatar, header, attachments)
    offers.jsonl events.jsonl
    followers.jsonl        {"actor", "handle", "since"}: for reference only (a follower
                           moves by itself when the old account sends Move)
    media/<file name>      the image files

    export_business(store, urls, media, username, destination)
    import_business(store, urls, media, archive, new=NewIdentity(...))

What is NOT in the archive: the keys, the owner token, the people who sign in, the
notifications and the remote side of conversations. A business imported elsewhere is a new
actor with a new id (``https://new.example/users/name``), so it gets NEW keys: a key
belongs to one actor id, and peers bind it to that id. Its followers come over by ``Move``
(``outbound.moves``), not through the file.

The import refuses, before writing anything, an archive that is damaged, of another
format or version, or from a newer schema, and a username that is taken; then it copies
the media files (each under a new name) and writes every row in one transaction, with new
ids (keeping each row's time, so the order stays), the post URIs of the new actor and the
posts' HTML sanitised (the file came from elsewhere). If
the rows fail, the copied files are removed again: nothing is left half-written.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import tarfile
import tempfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio

from fedi_town import __version__
from fedi_town.errors import Conflict, NotFound, ProblemError, Unprocessable
from fedi_town.media.storage import MediaStore, MediaUnavailable
from fedi_town.protocol.urls import Urls
from fedi_town.protocol.usernames import username_problem
from fedi_town.store import portable
from fedi_town.store.db import Store
from fedi_town.store.effects import BusinessChanged
from fedi_town.store.migrations import LATEST_VERSION, applied_version
from fedi_town.text.sanitize import sanitize_html

FORMAT = "fedi-town-business"
VERSION = 1
MANIFEST = "manifest.json"
BUSINESS = "business.json"
TABLES = ("media", "posts", "offers", "events")
FOLLOWERS = "followers.jsonl"

#: Columns of ``businesses`` that belong to this server, not to the business: ids, keys,
#: the owner token, what was last sent, where it moved.
_LOCAL_COLUMNS = frozenset(
    {
        "id",
        "username",
        "username_lower",
        "owner_token_hash",
        "private_key_pem",
        "public_key_pem",
        "profile_digest",
        "profile_check_at",
        "deleted_at",
        "kind",
        "updated_at",
        "also_known_as",
        "moved_to",
        "moved_at",
    }
)


class BusinessArchiveError(Unprocessable):
    """The archive cannot be imported: damaged, of another format or version, or from a
    newer fedi-town. The detail is one sentence saying which."""


@dataclass(frozen=True)
class Manifest:
    """What a business archive holds (its ``manifest.json``)."""

    fedi_town_version: str
    schema_version: int
    created_at: str
    source: dict[str, str]
    counts: dict[str, int]
    media_files: int
    media_bytes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "fedi_town_version": self.fedi_town_version,
            "schema_version": self.schema_version,
            "created_at": self.created_at,
            "source": self.source,
            "counts": self.counts,
            "media": {"files": self.media_files, "bytes": self.media_bytes},
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """The manifest in ``data``; ``BusinessArchiveError`` unless it is one we read."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BusinessArchiveError(
                "this is not a fedi-town business archive (made by fedi-town export-business)"
            )
        if data.get("version") != VERSION:
            raise BusinessArchiveError(
                f"the archive is version {data.get('version')!r}; this fedi-town reads "
                f"version {VERSION}"
            )
        try:
            source = data["source"]
            return cls(
                fedi_town_version=str(data["fedi_town_version"]),
                schema_version=int(data["schema_version"]),
                created_at=str(data["created_at"]),
                source={k: str(source[k]) for k in ("username", "actor", "handle", "profile")},
                counts={t: int(data["counts"][t]) for t in (*TABLES, "followers")},
                media_files=int(data["media"]["files"]),
                media_bytes=int(data["media"]["bytes"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise BusinessArchiveError("the archive's manifest.json is incomplete") from None


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _plain(row: Mapping[str, Any], columns: list[portable.Column]) -> dict[str, Any]:
    """A database row as JSON values (SQLite's 0/1 booleans as booleans)."""
    out: dict[str, Any] = {}
    for name, kind in columns:
        value = row[name]
        out[name] = bool(value) if kind == "boolean" and value is not None else value
    return out


# --- export --------------------------------------------------------------------------------


@dataclass
class _Export:
    business: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    followers: list[dict[str, Any]]


async def _read_business(store: Store, username: str) -> _Export:
    """Everything of one live business, read in one transaction."""
    columns = await portable.columns_of(store)
    async with store.transaction():
        row = await store.fetch_one(
            "SELECT * FROM businesses WHERE username_lower = :u AND deleted_at IS NULL "
            "AND kind = 'business'",
            {"u": username.lower()},
        )
        if row is None:
            raise NotFound(f"there is no business {username!r} here")
        business = _plain(row, columns["businesses"])
        b = {"b": business["id"]}
        posts = await store.fetch_all(
            "SELECT * FROM posts WHERE business_id = :b AND deleted_at IS NULL ORDER BY id", b
        )
        offers = await store.fetch_all(
            "SELECT * FROM offers WHERE business_id = :b AND deleted_at IS NULL ORDER BY id", b
        )
        events = await store.fetch_all(
            "SELECT * FROM events WHERE business_id = :b AND deleted_at IS NULL ORDER BY id", b
        )
        # Images of live posts, the avatar and header, and unattached uploads (an offer's).
        media = await store.fetch_all(
            "SELECT * FROM media WHERE business_id = :b AND (post_id IS NULL OR post_id IN "
            "(SELECT id FROM posts WHERE business_id = :b AND deleted_at IS NULL)) ORDER BY id",
            b,
        )
        followers = await store.fetch_all(
            "SELECT a.uri, a.username, a.domain, f.created_at FROM follows f "
            "JOIN remote_actors a ON a.id = f.actor_id "
            "WHERE f.business_id = :b AND f.state = 'accepted' ORDER BY f.id",
            b,
        )
    tables = {
        "posts": [_plain(r, columns["posts"]) for r in posts],
        "offers": [_plain(r, columns["offers"]) for r in offers],
        "events": [_plain(r, columns["events"]) for r in events],
        "media": [_plain(r, columns["media"]) for r in media],
    }
    listed = [
        {
            "actor": str(r["uri"]),
            "handle": f"@{r['username']}@{r['domain']}" if r["username"] else None,
            "since": _iso(int(r["created_at"])),
        }
        for r in followers
    ]
    return _Export(business, tables, listed)


async def export_business(
    store: Store, urls: Urls, media: MediaStore, username: str, destination: Path
) -> Manifest:
    """Write business ``username`` to ``destination`` (mode 0600), while the instance
    serves; written beside it and renamed, so a failed export leaves no partial file.
    Images are read from ``media`` (a folder or a bucket), one at a time."""
    found = await _read_business(store, username)
    name = str(found.business["username"])
    profile = {k: v for k, v in found.business.items() if k not in _LOCAL_COLUMNS}
    files: list[tuple[str, int]] = []
    for row in found.tables["media"]:
        key = str(row["path"])
        size = await media.size(key) if _file_name_ok(key) else None
        if size is None:
            raise Conflict(f"the media file {key} is missing from {media.describe()}")
        files.append((key, size))
    manifest = Manifest(
        fedi_town_version=__version__,
        schema_version=await applied_version(store),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source={
            "username": name,
            "actor": urls.actor(name),
            "handle": urls.handle(name),
            "profile": urls.profile_page(name),
        },
        counts={**{t: len(found.tables[t]) for t in TABLES}, "followers": len(found.followers)},
        media_files=len(files),
        media_bytes=sum(size for _name, size in files),
    )
    await _write_tar(manifest, profile, found, files, media, destination)
    return manifest


def _lines(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, fileobj=_Reader(data))


class _Reader:
    """Bytes as the file object ``TarFile.addfile`` reads."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.at + size
        chunk, self.at = self.data[self.at : end], min(end, len(self.data))
        return chunk


def _add_rows(
    tar: tarfile.TarFile, manifest: Manifest, profile: dict[str, Any], found: _Export
) -> None:
    _add_bytes(tar, MANIFEST, json.dumps(manifest.to_json(), indent=1).encode())
    _add_bytes(tar, BUSINESS, json.dumps(profile, ensure_ascii=False).encode())
    for table in TABLES:
        _add_bytes(tar, f"{table}.jsonl", _lines(found.tables[table]))
    _add_bytes(tar, FOLLOWERS, _lines(found.followers))


async def _write_tar(
    manifest: Manifest,
    profile: dict[str, Any],
    found: _Export,
    files: list[tuple[str, int]],
    media: MediaStore,
    destination: Path,
) -> None:
    """Pack the rows, then each image read from ``media`` (packing in a thread, reading in
    the loop), under a temporary name renamed when whole."""
    partial = destination.with_name(f".{destination.name}.part")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            await asyncio.to_thread(_add_rows, tar, manifest, profile, found)
            for key, size in files:
                data = await media.get(key)
                if data is None or len(data) != size:
                    raise Conflict(
                        f"the media file {key} went away during the export: run it again"
                    )
                await asyncio.to_thread(_add_bytes, tar, f"media/{key}", data)
        os.replace(partial, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise


# --- import --------------------------------------------------------------------------------


def _file_name_ok(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".")


_EXPECTED = frozenset({MANIFEST, BUSINESS, FOLLOWERS, *(f"{t}.jsonl" for t in TABLES)})


@dataclass(frozen=True)
class Unpacked:
    """An archive extracted and checked whole."""

    folder: Path
    manifest: Manifest
    business: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    followers: list[dict[str, Any]]


def _read_lines(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    if not all(isinstance(r, dict) for r in rows):
        raise ValueError("a line is not an object")
    return rows


def unpack(archive: Path, folder: Path) -> Unpacked:
    """Extract ``archive`` into ``folder`` and check it is whole and one we read."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar.getmembers():
                top, _, rest = member.name.partition("/")
                if not member.isfile() or not (
                    member.name in _EXPECTED or (top == "media" and _file_name_ok(rest))
                ):
                    raise BusinessArchiveError(
                        f"the archive holds an unexpected entry {member.name!r}"
                    )
            tar.extractall(folder, filter="data")
    except BusinessArchiveError:
        raise
    except FileNotFoundError:
        raise BusinessArchiveError(f"no archive at {archive}") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError):
        raise BusinessArchiveError(
            f"{archive.name} is not a complete business archive (truncated or damaged)"
        ) from None
    try:
        manifest = Manifest.from_json(json.loads((folder / MANIFEST).read_text("utf-8")))
    except (FileNotFoundError, ValueError):
        raise BusinessArchiveError(f"{archive.name} has no readable manifest.json") from None
    if manifest.schema_version > LATEST_VERSION:
        raise BusinessArchiveError(
            f"the archive was made by a newer fedi-town ({manifest.fedi_town_version}, schema "
            f"{manifest.schema_version}); this one knows schema {LATEST_VERSION}: upgrade first"
        )
    try:
        business = json.loads((folder / BUSINESS).read_text("utf-8"))
        tables = {t: _read_lines(folder / f"{t}.jsonl") for t in TABLES}
        followers = _read_lines(folder / FOLLOWERS)
        if not isinstance(business, dict):
            raise ValueError("business.json is not an object")
    except (FileNotFoundError, ValueError):
        raise BusinessArchiveError(f"{archive.name} is missing or garbles a part") from None
    for table in TABLES:
        if len(tables[table]) != manifest.counts[table]:
            raise BusinessArchiveError(
                f"the archive's {table} holds {len(tables[table])} rows, its manifest says "
                f"{manifest.counts[table]} (damaged archive)"
            )
    media = list((folder / "media").iterdir()) if (folder / "media").exists() else []
    named = {str(r.get("path")) for r in tables["media"]}
    if (
        len(media) != manifest.media_files
        or sum(p.stat().st_size for p in media) != manifest.media_bytes
        or {p.name for p in media} != named
    ):
        raise BusinessArchiveError("the archive's media files are not those it lists")
    return Unpacked(folder, manifest, business, tables, followers)


@dataclass(frozen=True)
class NewIdentity:
    """What the importing server gives the business: its name, a NEW key pair (the actor id
    is new, so is its key) and an owner token (hashed)."""

    #: None: the archive's own username
    username: str | None
    sealed_private_key: str
    public_key_pem: str
    owner_token_hash: str


@dataclass(frozen=True)
class Imported:
    """What an import wrote."""

    business_id: int
    username: str
    manifest: Manifest
    counts: dict[str, int]


class _Ids:
    """New ids that keep each row's time (``store.db.new_id``'s layout: milliseconds, then
    random bits), so posts keep their order; old id -> new id per table."""

    def __init__(self) -> None:
        self.made: set[int] = set()
        self.maps: dict[str, dict[int, int]] = {t: {} for t in TABLES}

    def fresh(self, at_ms: int) -> int:
        while True:
            candidate = (max(at_ms, 0) << 21) | secrets.randbits(20)
            if candidate not in self.made:
                self.made.add(candidate)
                return candidate

    def new(self, table: str, old: Any, at_ms: int) -> int:
        candidate = self.fresh(at_ms)
        self.maps[table][int(old)] = candidate
        return candidate

    def of(self, table: str, old: Any) -> int | None:
        return None if old is None else self.maps[table].get(int(old))


def _checked(table: str, row: Mapping[str, Any], known: dict[str, str]) -> dict[str, Any]:
    """``row`` with only columns the target's catalogue names (never archive text in SQL)."""
    unknown = set(row) - set(known)
    if unknown:
        raise BusinessArchiveError(
            f"the archive's {table} has a column this fedi-town lacks: {sorted(unknown)[0]}"
        )
    out: dict[str, Any] = {}
    for name, value in row.items():
        if known[name] == "boolean" and value is not None:
            value = bool(value)
        out[name] = value
    return out


async def _insert(store: Store, table: str, row: dict[str, Any]) -> None:
    # Every name is one the target's own catalogue holds (checked by ``_checked``).
    names = list(row)
    await store.execute(
        f"INSERT INTO {table} ({', '.join(names)}) "  # noqa: S608
        f"VALUES ({', '.join(':' + n for n in names)})",
        row,
    )


def _rows(
    unpacked: Unpacked, urls: Urls, username: str, new: NewIdentity, now: int
) -> dict[str, Any]:
    """The rows to insert, with new ids, URIs and file names."""
    ids = _Ids()
    business_id = ids.fresh(now)
    media = []
    for row in unpacked.tables["media"]:
        suffix = str(row["path"]).rsplit(".", 1)[-1]
        media.append(
            {
                **row,
                "id": ids.new("media", row["id"], int(row["created_at"])),
                "business_id": business_id,
                "path": f"{secrets.token_hex(16)}.{suffix}",
            }
        )
    old_tags = unpacked.manifest.source["profile"] + "/tagged/"
    new_tags = urls.profile_page(username) + "/tagged/"
    posts = []
    for row in unpacked.tables["posts"]:
        post_id = ids.new("posts", row["id"], int(row["created_at"]))
        posts.append(
            {
                **row,
                "id": post_id,
                "business_id": business_id,
                "uri": urls.post(username, post_id),
                # A file from elsewhere: its HTML is cleaned as any HTML that comes in.
                "content_html": sanitize_html(str(row["content_html"]).replace(old_tags, new_tags)),
                "extra_inboxes": "[]",  # the new actor re-sends nothing to anyone
            }
        )
    for row in media:
        row["post_id"] = ids.of("posts", row.get("post_id"))
    listed: dict[str, list[dict[str, Any]]] = {"media": media, "posts": posts}
    for table in ("offers", "events"):
        listed[table] = [
            {
                **row,
                "id": ids.new(table, row["id"], int(row["created_at"])),
                "business_id": business_id,
                "media_id": ids.of("media", row.get("media_id")),
                "post_id": ids.of("posts", row.get("post_id")),
            }
            for row in unpacked.tables[table]
        ]
    profile = {k: v for k, v in unpacked.business.items() if k not in _LOCAL_COLUMNS}
    business = {
        **profile,
        "id": business_id,
        "username": username,
        "username_lower": username.lower(),
        "owner_token_hash": new.owner_token_hash,
        "private_key_pem": new.sealed_private_key,
        "public_key_pem": new.public_key_pem,
        "kind": "business",
        "updated_at": now,
        "avatar_media_id": ids.of("media", profile.get("avatar_media_id")),
        "header_media_id": ids.of("media", profile.get("header_media_id")),
    }
    return {"business": business, **listed}


async def _place_media(
    unpacked: Unpacked, media_rows: list[dict[str, Any]], media: MediaStore
) -> list[str]:
    """Put each archived image into ``media`` under its new name; the keys written, all
    removed again if one fails."""
    written: list[str] = []
    try:
        for old, row in zip(unpacked.tables["media"], media_rows, strict=True):
            source = unpacked.folder / "media" / str(old["path"])
            data = await asyncio.to_thread(source.read_bytes)
            key = str(row["path"])
            await media.put(key, data, str(row.get("media_type") or "application/octet-stream"))
            written.append(key)
    except BaseException:
        await _remove(media, written)
        raise
    return written


async def _remove(media: MediaStore, keys: list[str]) -> None:
    """Take back what an import wrote; shielded, so a cancelled import cleans up too."""
    with anyio.CancelScope(shield=True):
        for key in keys:
            with contextlib.suppress(MediaUnavailable):
                await media.delete(key)


async def username_taken(store: Store, username: str) -> bool:
    """Whether any business here (live or deleted) has ``username``, in any case."""
    found = await store.fetch_val(
        "SELECT 1 FROM businesses WHERE username_lower = :u", {"u": username.lower()}
    )
    return found is not None


async def import_business(
    store: Store, urls: Urls, media: MediaStore, archive: Path, new: NewIdentity, *, now: int
) -> Imported:
    """Import ``archive`` as business ``new.username`` (docstring of the module)."""
    with tempfile.TemporaryDirectory(prefix="fedi-town-import-") as work:
        unpacked = await asyncio.to_thread(unpack, archive, Path(work))
        username = new.username or unpacked.manifest.source["username"]
        if problem := username_problem(username):
            raise Unprocessable(problem)
        if await username_taken(store, username):
            raise Conflict(
                f"username {username!r} is taken here: choose another with --username NEW"
            )
        catalogue = await portable.columns_of(store)
        known = {t: dict(catalogue[t]) for t in ("businesses", *TABLES)}
        try:
            rows = _rows(unpacked, urls, username, new, now)
        except (KeyError, TypeError, ValueError):
            raise BusinessArchiveError(
                "the archive's rows are incomplete (a row lacks its id, time or path)"
            ) from None
        checked = {
            "businesses": [_checked("businesses", rows["business"], known["businesses"])],
            **{t: [_checked(t, r, known[t]) for r in rows[t]] for t in TABLES},
        }
        written = await _place_media(unpacked, rows["media"], media)
        try:
            async with store.transaction():
                if await username_taken(store, username):  # taken meanwhile
                    raise Conflict(f"username {username!r} is taken here")
                for table in ("businesses", "media", "posts", "offers", "events"):
                    for row in checked[table]:
                        await _insert(store, table, row)
                store.after_commit(BusinessChanged(username))
        except ProblemError:
            await _remove(media, written)
            raise
        except Exception as exc:  # a row the database refuses (NOT NULL, a type): all undone
            await _remove(media, written)
            raise BusinessArchiveError(
                "the archive's rows do not fit this database; nothing was imported"
            ) from exc
        except BaseException:
            await _remove(media, written)
            raise
    counts = {t: len(rows[t]) for t in TABLES}
    return Imported(int(rows["business"]["id"]), username, unpacked.manifest, counts)
