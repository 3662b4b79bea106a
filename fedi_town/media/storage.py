"""Where uploaded media is kept: one interface, two backends.

    MediaStore              put / get / stream / delete / size / keys, by key
    ├── LocalMediaStore     files under FEDI_TOWN_MEDIA_DIR (the default: one machine)
    └── S3MediaStore        objects in an S3-compatible bucket (media/s3.py): web processes
                            on several machines share the same media

A key is the relative path a ``media`` row stores (``path``): new uploads get a bare random
name (``files.new_name``), older rows may hold a relative path with folders. Keys are checked
(``safe_key``) before either backend sees them, so no key reaches outside the folder or
names an object we did not make.

A backend that cannot be reached, or refuses, raises ``MediaUnavailable`` (a 503 problem at
the HTTP edge): its message says which storage and what happened, never a credential.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio.to_thread

from fedi_town.errors import ServiceUnavailable

#: how many bytes a streamed read hands over at a time
CHUNK_BYTES = 64 * 1024


class MediaUnavailable(ServiceUnavailable):
    """The media storage cannot be reached or refused the operation (503, try later)."""


def safe_key(key: str) -> bool:
    """True for a plain relative path: no ``..``/``.``/empty segment, no backslash or NUL,
    no segment starting with a dot (temporary files are ``.name.part``)."""
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        return False
    return all(part and not part.startswith(".") for part in key.split("/"))


def _checked(key: str) -> str:
    if not safe_key(key):
        raise ValueError("not a media key")
    return key


@dataclass(frozen=True)
class Streamed:
    """An object (or a part of it) being read: how many bytes, then the bytes in chunks."""

    size: int
    chunks: AsyncIterator[bytes]


class MediaStore(Protocol):
    """What the API, the read side, backups and ``doctor`` keep media in."""

    def describe(self) -> str:
        """Where the media is, for messages (a folder, or a bucket at an endpoint)."""
        ...

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        """Store ``data`` under ``key`` whole or not at all (a reader never sees half)."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""
        ...

    async def stream(self, key: str, part: tuple[int, int] | None = None) -> Streamed | None:
        """A reader of the object's bytes (only ``start <= i < end`` with ``part``) and how
        many it gives, or None when there is none. ``part`` must lie inside the object."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; gone already is fine."""
        ...

    async def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is none."""
        ...

    def keys(self) -> AsyncIterator[str]:
        """Every key stored, in no particular order."""
        ...

    async def close(self) -> None:
        """Let go of connections (a process stopping)."""
        ...


class LocalMediaStore:
    """Media as files under one folder on this machine: today's behaviour.

    Files are written to a temporary name, flushed and renamed ; reads
    resolve the path and refuse anything outside the folder (a symlink out of it, too).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return f"the folder {self.root} (FEDI_TOWN_MEDIA_DIR)"

    def file_path(self, key: str) -> Path | None:
        """The file of ``key`` if it exists and really is inside the folder (blocking)."""
        if not safe_key(key):
            return None
        base = self.root.resolve()
        target = (base / key).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            return None
        return target

    def _write(self, key: str, data: bytes) -> None:
        final = self.root / key
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.with_name(f".{final.name}.part")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        try:
            await anyio.to_thread.run_sync(self._write, _checked(key), data)
        except OSError as exc:
            raise MediaUnavailable(
                f"cannot write to {self.describe()}: {exc.strerror}", retry_after=60
            ) from None

    async def get(self, key: str) -> bytes | None:
        path = await anyio.to_thread.run_sync(self.file_path, key)
        if path is None:
            return None
        with contextlib.suppress(FileNotFoundError):
            return await anyio.to_thread.run_sync(path.read_bytes)
        return None

    async def stream(self, key: str, part: tuple[int, int] | None = None) -> Streamed | None:
        data = await self.get(key)
        if data is None:
            return None
        if part is not None:
            data = data[part[0] : part[1]]

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(data), CHUNK_BYTES):
                yield data[start : start + CHUNK_BYTES]

        return Streamed(len(data), chunks())

    def _remove(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.root / key).unlink()

    async def delete(self, key: str) -> None:
        try:
            await anyio.to_thread.run_sync(self._remove, _checked(key))
        except OSError as exc:
            raise MediaUnavailable(
                f"cannot remove a file in {self.describe()}: {exc.strerror}", retry_after=60
            ) from None

    async def size(self, key: str) -> int | None:
        path = await anyio.to_thread.run_sync(self.file_path, key)
        return None if path is None else path.stat().st_size

    async def keys(self) -> AsyncIterator[str]:
        found = await anyio.to_thread.run_sync(self._walk)
        for key in found:
            yield key

    def _walk(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file() and safe_key(path.relative_to(self.root).as_posix())
        )

    async def close(self) -> None:
        return None
