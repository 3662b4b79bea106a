"""The backup archive: one ``.tar.gz`` with the whole instance but its secrets.

    manifest.json          {"format": 1, "fedi_town_version", "schema_version", "created_at",
                            "source": "sqlite" | "postgresql", "counts": {table: rows},
                            "columns": {table: [[name, kind], ...]},
                            "media": {"files": n, "bytes": n, "missing": [names]}}
    tables/<table>.jsonl   one JSON object per row (``store.portable``'s portable rows)
    media/<file name>      every file the ``media`` table named at the snapshot

    backup(store, media, destination)      snapshot while serving, then the media files
    restore(store, media, archive, ring)   into an empty, migrated instance
    copy_database(source, target)              the same rows straight into another database

Private keys stay sealed as stored: the key encryption keys (FEDI_TOWN_KEY_ENCRYPTION_KEYS)
and the admin token are NOT in the archive, and the operator keeps them elsewhere. A
restore checks first that the keyring opens every sealed key in the archive, that the
archive is whole (every table's line count and every media file as the manifest says) and
that its schema is not newer than this fedi-town's; only then does it write, rows in one
transaction. Media files never change once written (``media.files``), so copying them after
the snapshot gives the snapshot's files; one deleted in between is listed as missing.

Media is read and written through the ``MediaStore`` configured (media/storage.py), a folder
or a bucket: a backup of an instance keeping its media in S3 holds the objects, and a
restore puts them into whichever store the target is configured with (SQLite and a folder
to PostgreSQL and a bucket, or back).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import anyio

from fedi_town import __version__
from fedi_town.errors import ConfigError, Unprocessable
from fedi_town.media.storage import MediaStore, MediaUnavailable
from fedi_town.progress import Update, quiet_update
from fedi_town.protocol.sealed import CannotOpen, Keyring, is_sealed
from fedi_town.store import portable
from fedi_town.store.db import Store
from fedi_town.store.keys_at_rest import INSTANCE_KEY, SETTING
from fedi_town.store.migrations import MIGRATIONS

FORMAT = 1
MANIFEST = "manifest.json"

KEYS_DO_NOT_OPEN = (
    f"{SETTING} does not open the private keys in this backup: set the key encryption "
    "key(s) of the instance the backup was made on (they are not in the backup)"
)

#: ``progress(stage, done, total or None)``: how far the work is (``fedi_town.progress``)
Progress = Update

#: Rows between two progress calls while a table is read.
PROGRESS_EVERY_ROWS = 1000


class ArchiveError(Unprocessable):
    """The archive cannot be restored: damaged, another format, newer, or the target is
    not empty. The detail is one sentence saying which."""


@dataclass(frozen=True)
class Manifest:
    """What an archive holds (its ``manifest.json``)."""

    format: int
    fedi_town_version: str
    schema_version: int
    created_at: str
    source: str
    counts: dict[str, int]
    columns: dict[str, list[portable.Column]]
    media_files: int
    media_bytes: int
    missing_media: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "fedi_town_version": self.fedi_town_version,
            "schema_version": self.schema_version,
            "created_at": self.created_at,
            "source": self.source,
            "counts": self.counts,
            "columns": {t: [list(c) for c in cols] for t, cols in self.columns.items()},
            "media": {
                "files": self.media_files,
                "bytes": self.media_bytes,
                "missing": self.missing_media,
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> Manifest:
        """The manifest in ``data``; ``ArchiveError`` when it is not one of ours."""
        try:
            if data["format"] != FORMAT:
                raise ArchiveError(
                    f"the backup is in format {data['format']}; this fedi-town reads "
                    f"format {FORMAT}"
                )
            media = data["media"]
            return cls(
                format=int(data["format"]),
                fedi_town_version=str(data["fedi_town_version"]),
                schema_version=int(data["schema_version"]),
                created_at=str(data["created_at"]),
                source=str(data["source"]),
                counts={str(t): int(n) for t, n in data["counts"].items()},
                columns={
                    str(t): [(str(n), str(k)) for n, k in cols]
                    for t, cols in data["columns"].items()
                },
                media_files=int(media["files"]),
                media_bytes=int(media["bytes"]),
                missing_media=[str(n) for n in media["missing"]],
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ArchiveError("the backup's manifest.json is not a fedi-town manifest") from None


class _TableFiles:
    """Rows written as JSON lines, one file per table, under ``folder``."""

    def __init__(self, folder: Path, progress: Progress = quiet_update) -> None:
        self.folder = folder
        self.media_paths: list[str] = []
        self._open: dict[str, IO[str]] = {}
        self._progress = progress
        self._rows = 0

    def write(self, table: str, row: portable.Row) -> None:
        handle = self._open.get(table)
        if handle is None:
            handle = self._open[table] = open(self.folder / f"{table}.jsonl", "w", encoding="utf-8")
            self._rows = 0
        handle.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
        if table == "media":
            self.media_paths.append(str(row["path"]))
        self._rows += 1
        if self._rows % PROGRESS_EVERY_ROWS == 0:
            self._progress(f"reading {table}", self._rows, None)

    def close(self) -> None:
        for handle in self._open.values():
            handle.close()
        self._open.clear()

    def rows_of(self, table: str) -> Iterator[portable.Row]:
        path = self.folder / f"{table}.jsonl"
        if not path.exists():
            return
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)


async def _dump(
    store: Store, folder: Path, progress: Progress
) -> tuple[portable.Snapshot, _TableFiles]:
    files = _TableFiles(folder, progress)
    try:
        snap = await portable.snapshot(store, files.write)
    finally:
        files.close()
    for table, rows in snap.counts.items():
        progress(f"reading {table}", rows, rows)
    return snap, files


def _media_file_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".")


async def backup(
    store: Store, media: MediaStore, destination: Path, progress: Progress = quiet_update
) -> Manifest:
    """Write an archive of ``store`` and its media to ``destination`` (mode 0600), taken
    while the instance serves. Written beside it first and renamed, so a failed backup
    never leaves a partial archive under the name."""
    with tempfile.TemporaryDirectory(prefix="fedi-town-backup-") as work:
        tables = Path(work) / "tables"
        tables.mkdir()
        snap, files = await _dump(store, tables, progress)
        present: list[tuple[str, int]] = []
        missing: list[str] = []
        for name in sorted(set(files.media_paths)):
            size = await media.size(name) if _media_file_name(name) else None
            if size is None:
                missing.append(name)
            else:
                present.append((name, size))
        manifest = Manifest(
            format=FORMAT,
            fedi_town_version=__version__,
            schema_version=snap.schema_version,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            source=store.dialect,
            counts=snap.counts,
            columns=snap.columns,
            media_files=len(present),
            media_bytes=sum(size for _name, size in present),
            missing_media=missing,
        )
        (Path(work) / MANIFEST).write_text(json.dumps(manifest.to_json(), indent=1))
        await _write_tar(Path(work), manifest, present, media, destination, progress)
    return manifest


def _add_tables(tar: tarfile.TarFile, work: Path, manifest: Manifest, progress: Progress) -> None:
    tar.add(work / MANIFEST, arcname=MANIFEST)
    tables = list(manifest.counts)
    for number, table in enumerate(tables, 1):
        path = work / "tables" / f"{table}.jsonl"
        if path.exists():
            tar.add(path, arcname=f"tables/{table}.jsonl")
        progress("packing tables", number, len(tables))


async def _write_tar(
    work: Path,
    manifest: Manifest,
    present: list[tuple[str, int]],
    media: MediaStore,
    destination: Path,
    progress: Progress = quiet_update,
) -> None:
    """Pack the manifest, the table files under ``work`` and the media objects (read one at
    a time from ``media``) into ``destination``: written under a temporary name (mode
    0600) and renamed when whole. Packing runs in a thread, reading in the loop."""
    partial = destination.with_name(f".{destination.name}.part")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            await asyncio.to_thread(_add_tables, tar, work, manifest, progress)
            progress("packing media files", 0, len(present))
            for number, (name, size) in enumerate(present, 1):
                data = await media.get(name)
                if data is None or len(data) != size:
                    raise ArchiveError(
                        f"the media file {name} went away or changed during the backup: "
                        "run it again"
                    )
                info = tarfile.TarInfo(f"media/{name}")
                info.size, info.mode, info.mtime = size, 0o600, int(time.time())
                await asyncio.to_thread(tar.addfile, info, io.BytesIO(data))
                progress("packing media files", number, len(present))
        os.replace(partial, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise


def _unpack(archive: Path, folder: Path, progress: Progress = quiet_update) -> Manifest:
    """Extract ``archive`` into ``folder`` and check it is whole; its manifest."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                name = member.name
                top, _, rest = name.partition("/")
                if not member.isfile() or not (
                    name == MANIFEST
                    or (top == "tables" and rest.endswith(".jsonl") and "/" not in rest)
                    or (top == "media" and _media_file_name(rest))
                ):
                    raise ArchiveError(f"the backup holds an unexpected entry {name!r}")
            for number, member in enumerate(members, 1):
                tar.extract(member, folder, filter="data")
                progress("unpacking files", number, len(members))
    except ArchiveError:
        raise
    except FileNotFoundError:
        raise ArchiveError(f"no backup at {archive}") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError):
        raise ArchiveError(
            f"{archive.name} is not a complete fedi-town backup (truncated or damaged)"
        ) from None
    try:
        manifest = Manifest.from_json(json.loads((folder / MANIFEST).read_text()))
    except (FileNotFoundError, ValueError):
        raise ArchiveError(f"{archive.name} has no readable manifest.json") from None
    newest = MIGRATIONS[-1][0]
    if manifest.schema_version > newest:
        raise ArchiveError(
            f"the backup was made by a newer fedi-town ({manifest.fedi_town_version}, schema "
            f"{manifest.schema_version}); this one knows schema {newest}: upgrade first"
        )
    for table, expected in manifest.counts.items():
        path = folder / "tables" / f"{table}.jsonl"
        try:
            with open(path, encoding="utf-8") as handle:
                lines = sum(1 for _ in handle)
        except FileNotFoundError:
            lines = 0
        if lines != expected:
            raise ArchiveError(
                f"the backup's {table} holds {lines} rows, its manifest says {expected} "
                "(damaged archive)"
            )
    media = [p for p in (folder / "media").iterdir()] if (folder / "media").exists() else []
    if len(media) != manifest.media_files or sum(p.stat().st_size for p in media) != (
        manifest.media_bytes
    ):
        raise ArchiveError("the backup's media files are not those its manifest lists")
    return manifest


def check_keys(rows_of: Callable[[str], Iterator[portable.Row]], ring: Keyring) -> int:
    """How many sealed private keys the rows hold; ``ConfigError`` (naming the setting)
    unless ``ring`` opens every one."""
    stored = [str(row["private_key_pem"]) for row in rows_of("businesses")]
    for row in rows_of("instance_kv"):
        if row["key"] == INSTANCE_KEY:
            stored.append(str(json.loads(str(row["value"]))["private"]))
    for value in stored:
        if is_sealed(value):
            try:
                ring.open(value)
            except CannotOpen:
                raise ConfigError(KEYS_DO_NOT_OPEN) from None
    return len(stored)


async def _refuse_unless_empty(store: Store) -> None:
    if await portable.holds_businesses(store):
        raise ArchiveError(
            "the target instance already has businesses: restore into an empty instance "
            "(a new database, migrated)"
        )


def _files_in(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


async def _place_media(
    source: Path, media: MediaStore, types: dict[str, str], progress: Progress = quiet_update
) -> list[str]:
    """Put the archive's media files into ``media`` (an object already there is kept);
    the keys it wrote, all removed again if one fails."""
    written: list[str] = []
    try:
        paths = await asyncio.to_thread(_files_in, source)
        for number, path in enumerate(paths, 1):
            progress("media files", number, len(paths))
            if await media.size(path.name) is not None:
                continue
            data = await asyncio.to_thread(path.read_bytes)
            await media.put(path.name, data, types.get(path.name, "application/octet-stream"))
            written.append(path.name)
    except BaseException:
        await _take_back(media, written)
        raise
    return written


async def _take_back(media: MediaStore, written: list[str]) -> None:
    with anyio.CancelScope(shield=True):
        for key in written:
            with contextlib.suppress(MediaUnavailable):
                await media.delete(key)


async def restore(
    store: Store,
    media: MediaStore,
    archive: Path,
    ring: Keyring,
    progress: Progress = quiet_update,
) -> Manifest:
    """Restore ``archive`` into ``store`` (migrated, without businesses) and ``media``.

    Nothing is written until the archive is known whole, its schema not newer, and its
    keys open with ``ring``; then the media files, then every row in one transaction (the
    files written are removed again if the rows fail)."""
    with tempfile.TemporaryDirectory(prefix="fedi-town-restore-") as work:
        folder = Path(work)
        manifest = await asyncio.to_thread(_unpack, archive, folder, progress)
        files = _TableFiles(folder / "tables")
        check_keys(files.rows_of, ring)
        await _refuse_unless_empty(store)
        types = {str(r["path"]): str(r["media_type"]) for r in files.rows_of("media")}
        written = await _place_media(folder / "media", media, types, progress)
        try:
            await portable.replace_all(
                store,
                manifest.columns,
                files.rows_of,
                manifest.counts,
                _writing(progress, manifest.counts),
            )
        except BaseException as exc:
            await _take_back(media, written)
            if isinstance(exc, ValueError | portable.CountMismatch):
                raise ArchiveError(f"the backup does not fit this database: {exc}") from None
            raise
    return manifest


def _writing(progress: Progress, counts: dict[str, int]) -> Callable[[str, int], None]:
    """``portable.replace_all``'s progress (a table, its rows so far) as ``progress``'s
    stage "writing TABLE", of the count the source had."""

    def loaded(table: str, rows: int) -> None:
        progress(f"writing {table}", rows, counts.get(table, rows))

    return loaded


async def copy_database(
    source: Store, target: Store, progress: Progress = quiet_update
) -> tuple[dict[str, int], dict[str, int]]:
    """Copy every row of ``source`` (a snapshot, while it serves) into ``target`` (migrated,
    without businesses) in one transaction; the counts read and the counts then found in
    ``target``, which ``portable.CountMismatch`` guarantees equal."""
    with tempfile.TemporaryDirectory(prefix="fedi-town-copy-") as work:
        snap, files = await _dump(source, Path(work), progress)
        await _refuse_unless_empty(target)
        await portable.replace_all(
            target, snap.columns, files.rows_of, snap.counts, _writing(progress, snap.counts)
        )
    found = await portable.counts(target)
    for table, expected in snap.counts.items():
        if found.get(table, 0) != expected:
            raise portable.CountMismatch(table, expected, found.get(table, 0))
    return snap.counts, found
