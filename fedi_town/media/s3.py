"""Media as objects in an S3-compatible bucket (Amazon S3, MinIO, Garage, Backblaze B2,
Scaleway...), so web processes on several machines share the same media.

obstore raises ``FileNotFoundError`` for a missing object (its ``NotFoundError`` is
caught too) and ``PermissionError`` for a refused key.

The client is obstore (Rust's ``object_store``), chosen over aiobotocore by measurement
(docs/performance.md, "S3 client for media"; ``bench/s3_clients.py``): importing it and
making a client costs 6 ms and +1.2 MB of private memory (+8 MB of its shared library's
pages, shared by every process on the machine), against 250 ms and +24 MB private for
aiobotocore with its client, whose botocore service models fill the heap; obstore also
read 1.6x faster on loopback. It is imported, and its client made, with the first media
operation of a process configured for S3: a process with local storage never loads it, and
an S3 one only once media is stored or served.

Addresses are path-style (``endpoint/bucket/key``), which every S3-compatible service
takes. Failures become ``MediaUnavailable`` with a message naming the bucket and the kind of
failure (unreachable, bucket missing, key refused); the secret is never in it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fedi_town.media.storage import CHUNK_BYTES, MediaUnavailable, Streamed, safe_key
from fedi_town.settings import PREFIX, Settings

if TYPE_CHECKING:
    from obstore.store import S3Config

log = logging.getLogger(__name__)

#: a try of a request, and the retries of one that failed for a passing reason: short, so
#: an unreachable bucket answers 503 in seconds instead of holding the request
CONNECT_TIMEOUT = "5s"
REQUEST_TIMEOUT = "30s"
MAX_RETRIES = 2
RETRY_TIMEOUT = timedelta(seconds=10)


class S3MediaStore:
    """A bucket as a ``MediaStore`` (media/storage.py)."""

    def __init__(
        self,
        *,
        bucket: str,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        endpoint: str = "",
    ) -> None:
        self.bucket = bucket
        self.region = region
        self.endpoint = endpoint
        self._access_key_id = access_key_id
        self._secret = secret_access_key
        self._client: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> S3MediaStore:
        return cls(
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            endpoint=settings.s3_endpoint,
        )

    def __repr__(self) -> str:
        return f"S3MediaStore(bucket={self.bucket!r}, endpoint={self.endpoint!r})"

    def describe(self) -> str:
        where = self.endpoint or f"Amazon S3 ({self.region})"
        return f"the bucket {self.bucket} at {where} ({PREFIX}S3_BUCKET, {PREFIX}S3_ENDPOINT)"

    def _store(self) -> Any:
        if self._client is None:
            from obstore.store import S3Store  # deferred: Rust library, only when S3 is used

            config: S3Config = {
                "region": self.region,
                "access_key_id": self._access_key_id,
                "secret_access_key": self._secret,
                "virtual_hosted_style_request": False,
            }
            if self.endpoint:
                config["endpoint"] = self.endpoint
            self._client = S3Store(
                self.bucket,
                config=config,
                client_options={
                    "allow_http": self.endpoint.startswith("http://"),
                    "connect_timeout": CONNECT_TIMEOUT,
                    "timeout": REQUEST_TIMEOUT,
                },
                retry_config={"max_retries": MAX_RETRIES, "retry_timeout": RETRY_TIMEOUT},
            )
        return self._client

    def _failed(self, doing: str, exc: Exception) -> MediaUnavailable:
        """The failure as a 503 naming the bucket and what went wrong, never the secret."""
        from obstore import exceptions  # deferred: loaded with the client above

        if isinstance(exc, FileNotFoundError | exceptions.NotFoundError):
            why = "the bucket does not exist"
        elif isinstance(
            exc,
            PermissionError | exceptions.PermissionDeniedError | exceptions.UnauthenticatedError,
        ):
            why = (
                f"the key was refused (check {PREFIX}S3_ACCESS_KEY_ID, "
                f"{PREFIX}S3_SECRET_ACCESS_KEY and {PREFIX}S3_REGION)"
            )
        else:
            why = "no answer (unreachable, or it failed)"
        detail = _first_line(str(exc)).replace(self._secret, "***") if self._secret else ""
        log.warning("media storage: %s %s failed: %s (%s)", doing, self.bucket, why, detail)
        return MediaUnavailable(f"cannot {doing} {self.describe()}: {why}", retry_after=30)

    async def put(self, key: str, data: bytes, media_type: str) -> None:
        import obstore  # deferred: see _store

        _check(key)
        try:
            await obstore.put_async(
                self._store(), key, data, attributes={"Content-Type": media_type}
            )
        except Exception as exc:
            raise self._failed("write to", exc) from None

    async def _open(self, key: str, part: tuple[int, int] | None = None) -> Any:
        import obstore  # deferred: see _store
        from obstore import exceptions  # deferred: see _store

        if not safe_key(key):
            return None
        try:
            if part is not None:
                return await obstore.get_async(self._store(), key, options={"range": part})
            return await obstore.get_async(self._store(), key)
        except (FileNotFoundError, exceptions.NotFoundError):
            return None
        except Exception as exc:
            raise self._failed("read from", exc) from None

    async def get(self, key: str) -> bytes | None:
        found = await self._open(key)
        if found is None:
            return None
        try:
            return bytes(await found.bytes_async())
        except Exception as exc:
            raise self._failed("read from", exc) from None

    async def stream(self, key: str, part: tuple[int, int] | None = None) -> Streamed | None:
        found = await self._open(key, part)
        if found is None:
            return None
        first, end = found.range

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in found.stream(min_chunk_size=CHUNK_BYTES):
                yield bytes(chunk)

        return Streamed(int(end) - int(first), chunks())

    async def delete(self, key: str) -> None:
        import obstore  # deferred: see _store
        from obstore import exceptions  # deferred: see _store

        _check(key)
        try:
            await obstore.delete_async(self._store(), key)
        except (FileNotFoundError, exceptions.NotFoundError):
            return
        except Exception as exc:
            raise self._failed("delete from", exc) from None

    async def size(self, key: str) -> int | None:
        import obstore  # deferred: see _store
        from obstore import exceptions  # deferred: see _store

        if not safe_key(key):
            return None
        try:
            meta = await obstore.head_async(self._store(), key)
        except (FileNotFoundError, exceptions.NotFoundError):
            return None
        except Exception as exc:
            raise self._failed("read from", exc) from None
        return int(meta["size"])

    async def keys(self) -> AsyncIterator[str]:
        import obstore  # deferred: see _store

        try:
            async for batch in obstore.list(self._store(), chunk_size=500):
                for meta in batch:
                    if safe_key(str(meta["path"])):
                        yield str(meta["path"])
        except Exception as exc:
            raise self._failed("list", exc) from None

    async def close(self) -> None:
        self._client = None


def _check(key: str) -> None:
    if not safe_key(key):
        raise ValueError("not a media key")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else ""
