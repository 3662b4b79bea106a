"""``RemoteClient``: every request fedi-town sends to another server goes through here.

One shared ``httpx.AsyncClient`` (keep-alive pool) over ``ssrf.GuardedTransport``. Each
method call has a total deadline; each HTTP request also has connect and read timeouts
(Mastodon's 5 s / 10 s / 30 s, interop F3).

- ``fetch_object``: GET an ActivityStreams document, as Mastodon does (F1–F4): signed,
  redirects followed by hand and checked per hop, 200 only, strict Content-Type, size cap,
  ``id`` equal to the URL asked for.
- ``fetch_json``: GET any JSON object (WebFinger, NodeInfo) with the same guards.
- ``post_activity``: a signed POST to an inbox; never raises for remote trouble, returns a
  ``DeliveryResult`` for a pure retry policy to judge. It goes out on aiohttp
  (``remote.aio``, the same SSRF guarantees), which sends a delivery for about half the CPU
  of httpx; ``deliver_over="httpx"`` keeps it on httpx. aiohttp (9 MB) is loaded with the
  first delivery, in a thread: a process that has delivered nothing yet does not hold it.

Signed requests double-knock (see ``knock``): the host's remembered scheme first, the other
one once if the first was refused for its signature.

**Signing off the event loop.** An RSA-2048 signature costs about half a millisecond, most
of a delivery's CPU. With ``sign_threads`` above 0 requests are signed in a pool of that
many threads: ``cryptography`` releases the GIL while OpenSSL signs, so a fan-out signs on
the other cores while the event loop sends, reads answers and talks to the database.

**Offline.** Inside ``offline()`` no fetch goes out: it raises ``NeedsNetwork`` instead. The
worker handles inbox items in groups inside one database transaction, which must not wait
on another server (on SQLite it holds the write lock); an item that needs to fetch is taken
out of the group and handled alone afterwards. ``NeedsNetwork`` is a ``BaseException`` so
that no handler's ``except Exception`` mistakes it for the remote's failure.
"""

from __future__ import annotations

import asyncio
import contextvars
import email.utils
import importlib
import logging
import resource
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

import anyio
import anyio.to_thread
import httpx

from fedi_town.remote.errors import (
    FetchFailed,
    ForbiddenAddress,
    IdMismatch,
    RemoteGone,
    RemoteNotFound,
    RemoteUnreachable,
    TooManyRedirects,
    Unreachable,
)
from fedi_town.remote.knock import (
    DEFAULT_SCHEME,
    RequestSigner,
    Scheme,
    SchemeMemory,
    other_scheme,
)
from fedi_town.remote.responses import (
    check_activitypub_media_type,
    parse_json_object,
    parse_retry_after,
    read_limited,
    skim,
)
from fedi_town.remote.signing_pool import SigningPool
from fedi_town.remote.ssrf import (
    ORIGIN_CACHE_SIZE,
    GuardedTransport,
    Resolver,
    check_redirect,
    check_url,
    check_url_cached,
    split_origin,
)

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "ACTIVITY_ACCEPT",
    "ACTIVITY_CONTENT_TYPE",
    "IMAGE_ACCEPT",
    "JRD_ACCEPT",
    "DeliveryError",
    "DeliveryResult",
    "NeedsNetwork",
    "RemoteClient",
    "RequestSigner",
    "Scheme",
    "check_online",
    "offline",
]

logger = logging.getLogger(__name__)

ACTIVITY_ACCEPT = (
    "application/activity+json, "
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
)
JRD_ACCEPT = "application/jrd+json, application/json"
#: What an emoji fetch accepts: the four raster formats we keep, never SVG.
IMAGE_ACCEPT = "image/png, image/gif, image/webp, image/jpeg;q=0.9"
ACTIVITY_CONTENT_TYPE = "application/activity+json"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Answers that may mean "I do not accept this signature scheme", so we knock again with the
# other one. A refused GET comes back 401 or 403 depending on the server; Mastodon ``main``
# retries on 400/401, and on an inbox a 403 means a blocked domain, not a bad signature.
_GET_KNOCK = frozenset({400, 401, 403})
_POST_KNOCK = frozenset({400, 401})
_DELIVERY_BODY_BYTES = 4096

#: ``DeliveryResult.error``: why no HTTP answer came back.
DeliveryError = Unreachable | Literal["forbidden"]


@dataclass(frozen=True)
class DeliveryResult:
    """The outcome of one ``post_activity`` call.

    ``status`` is the HTTP status of the last attempt, or None with ``error`` set when no
    answer came: ``"timeout"``, ``"connect"``, ``"network"``, ``"protocol"`` (worth
    retrying) or ``"forbidden"`` (the inbox URL or address is refused; do not retry).
    ``retry_after`` is the answer's ``Retry-After`` in seconds, if any. ``scheme_used`` is
    the signature scheme of the last request sent (the default if none was sent).
    """

    status: int | None
    retry_after: float | None
    error: DeliveryError | None
    scheme_used: Scheme


class NeedsNetwork(BaseException):
    """A fetch was asked for inside ``offline()``; ``url`` is what it wanted."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


_offline: contextvars.ContextVar[bool] = contextvars.ContextVar("remote_offline", default=False)


@contextmanager
def offline() -> Iterator[None]:
    """While inside, every fetch raises ``NeedsNetwork`` instead of going out."""
    token = _offline.set(True)
    try:
        yield
    finally:
        _offline.reset(token)


def check_online(url: str) -> None:
    """Raise ``NeedsNetwork`` inside ``offline()``. For callers that fetch from tasks of
    their own, where a task group would wrap the exception: they ask before starting."""
    if _offline.get():
        raise NeedsNetwork(url)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _host_key(url: str) -> str:
    """``host[:port]`` as sent in the Host header; the unit the scheme memory keys on."""
    parts = split_origin(url)
    return _netloc(parts[0] if parts is not None else url)


@lru_cache(maxsize=ORIGIN_CACHE_SIZE)
def _netloc(url: str) -> str:
    return httpx.URL(url).netloc.decode("ascii")


def delivery_idle_connections(open_files: int | None = None) -> int:
    """How many idle delivery connections to keep: a quarter of the open-file limit
    (``open_files``, else this process's soft ``RLIMIT_NOFILE``), from 64 to 1,024.

    A fan-out to personal inboxes comes back to each server once per round over all of
    them; with 1,000 servers and 64 kept, nearly every POST opened a new connection (a TCP
    handshake on both ends, ~15% of a delivery's CPU). 1,024 covers a fan-out to 1,000
    servers under a limit of 4,096 or more (``serve`` and ``worker`` raise systemd's soft
    1,024 to the hard limit at start: ``lifecycle.raise_open_file_limit``).
    """
    if open_files is None:
        open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if open_files == resource.RLIM_INFINITY:
            open_files = 1 << 20
    return max(64, min(1024, open_files // 4))


#: Seconds a delivery connection may stay idle: under the 5 s after which uvicorn, Node and
#: Apache close an idle connection, so a POST rarely goes out on one being closed (a fan-out's
#: deliveries to one server come closer together than that and still share connections).
DELIVERY_IDLE_S = 4.0


def _unreachable_reason(exc: httpx.TransportError) -> Unreachable:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    if isinstance(exc, httpx.ProtocolError):
        return "protocol"
    return "network"


def _status_error(url: str, status: int) -> FetchFailed:
    if status == 404:
        return RemoteNotFound(url, status)
    if status == 410:
        return RemoteGone(url, status)
    return FetchFailed(url, status)


class RemoteClient:
    """The outbound HTTP client. Create one per process; ``close()`` it (or ``async with``).

    ``allow_private`` lets requests reach loopback and private networks over http or https
    (development and tests only). ``scheme_memory`` may be shared between clients.
    ``resolver`` replaces the system resolver (tests). ``transport`` replaces the guarded
    transport (tests): URL checks still apply, address checks then depend on that transport,
    and deliveries go through it too. ``deliver_over`` picks the library deliveries use.
    ``sign_threads`` (0: sign on the event loop) is the size of the signing thread pool.
    ``delivery_keepalive_connections`` caps the idle delivery (aiohttp) connections kept
    (default: ``max_keepalive_connections``, which caps the fetches' httpx pool).
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        user_agent: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        total_timeout: float = 30.0,
        max_body_bytes: int = 1024 * 1024,
        max_redirects: int = 3,
        max_connections: int = 100,
        max_keepalive_connections: int = 20,
        keepalive_expiry: float = 30.0,
        scheme_memory: SchemeMemory | None = None,
        clock: Callable[[], datetime] = _utc_now,
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        deliver_over: Literal["aiohttp", "httpx"] = "aiohttp",
        sign_threads: int = 0,
        delivery_keepalive_connections: int | None = None,
    ) -> None:
        self._allow_private = allow_private
        self.sign_threads = max(0, sign_threads)
        self._signing = SigningPool(sign_threads) if sign_threads > 0 else None
        self._total_timeout = total_timeout
        self._date_second = -1
        self._date_text = ""
        self._max_body_bytes = max_body_bytes
        self._max_redirects = max_redirects
        self._schemes = scheme_memory if scheme_memory is not None else SchemeMemory()
        self._clock = clock
        limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
        )
        self._deliver_over = "httpx" if transport is not None else deliver_over
        self._session: aiohttp.ClientSession | None = None
        self._session_options: dict[str, Any] = {
            "allow_private": allow_private,
            "user_agent": user_agent,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "max_connections": max_connections,
            "max_keepalive_connections": delivery_keepalive_connections
            or max_keepalive_connections,
            "keepalive_expiry": min(keepalive_expiry, DELIVERY_IDLE_S),
            "resolver": resolver,
        }
        self._client = httpx.AsyncClient(
            transport=transport
            or GuardedTransport(allow_private=allow_private, limits=limits, resolver=resolver),
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip"},
            timeout=httpx.Timeout(
                connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
            ),
            follow_redirects=False,
            trust_env=False,  # no proxies or .netrc from the environment
        )

    async def close(self) -> None:
        await self._client.aclose()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._signing is not None:
            self._signing.shutdown()

    async def _sign(
        self,
        signer: RequestSigner,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        scheme: Scheme,
    ) -> dict[str, str]:
        """The signer's headers, computed in the signing pool when there is one."""
        if self._signing is None:
            return signer(method, url, headers, body, scheme)
        return await self._signing.run(signer, method, url, headers, body, scheme)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- fetching ------------------------------------------------------------------------

    async def fetch_object(
        self, url: str, *, signer: RequestSigner | None, check_id: bool = True
    ) -> dict[str, Any]:
        """GET the ActivityStreams document at ``url``.

        Raises ``ForbiddenAddress``, ``RemoteUnreachable``, ``TooManyRedirects``,
        ``FetchFailed`` (``RemoteNotFound``, ``RemoteGone``), ``ResponseTooLarge``,
        ``BadContentType``, ``BadDocument``, or ``IdMismatch`` when ``check_id`` and the
        document's ``id`` is not exactly ``url`` (pass URLs without a fragment).
        """
        document = await self._fetch(url, accept=ACTIVITY_ACCEPT, signer=signer, strict=True)
        if check_id and document.get("id") != url:
            logger.info("dropped %s: its id is not the requested URL", url)
            raise IdMismatch(url, "the document's id is not the requested URL")
        return document

    async def fetch_json(
        self, url: str, *, accept: str = JRD_ACCEPT, signer: RequestSigner | None = None
    ) -> dict[str, Any]:
        """GET a JSON object (WebFinger, NodeInfo): any Content-Type, no ``id`` check."""
        return await self._fetch(url, accept=accept, signer=signer, strict=False)

    async def fetch_image(self, url: str, *, max_bytes: int) -> tuple[bytes, str]:
        """GET a small image (a custom emoji): its bytes and Content-Type, unsigned.

        The same guard, redirects and deadline as documents; ``ResponseTooLarge`` past
        ``max_bytes``. What the bytes are is for the caller to check (media/images.py).
        """
        return await self._fetch_body(url, IMAGE_ACCEPT, None, False, max_bytes)

    async def _fetch(
        self, url: str, *, accept: str, signer: RequestSigner | None, strict: bool
    ) -> dict[str, Any]:
        body, _ = await self._fetch_body(url, accept, signer, strict, self._max_body_bytes)
        return parse_json_object(body, url)

    async def _fetch_body(
        self, url: str, accept: str, signer: RequestSigner | None, strict: bool, limit: int
    ) -> tuple[bytes, str]:
        check_online(url)
        try:
            with anyio.fail_after(self._total_timeout):
                return await self._follow(
                    url, accept=accept, signer=signer, strict=strict, limit=limit
                )
        except TimeoutError:
            logger.info("gave up on %s: over %.1f s", url, self._total_timeout)
            raise RemoteUnreachable(url, "timeout") from None
        except httpx.TransportError as exc:
            reason = _unreachable_reason(exc)
            logger.info("gave up on %s: %s", url, reason)
            raise RemoteUnreachable(url, reason) from None

    async def _follow(
        self, url: str, *, accept: str, signer: RequestSigner | None, strict: bool, limit: int
    ) -> tuple[bytes, str]:
        """GET ``url``, following at most ``max_redirects`` redirects; return the body and
        its Content-Type."""
        check_url(url, allow_private=self._allow_private)
        current = url
        for _ in range(self._max_redirects + 1):
            response = await self._get(current, accept, signer)
            try:
                status = response.status_code
                location = response.headers.get("location")
                if status in _REDIRECTS and location is not None:
                    target = check_redirect(current, location, allow_private=self._allow_private)
                    logger.debug("%s redirects to %s", current, target)
                    current = target
                    continue
                if status != 200:
                    logger.info("fetch of %s failed: HTTP %d", url, status)
                    raise _status_error(url, status)
                if strict:
                    check_activitypub_media_type(response.headers.get("content-type"), url)
                body = await read_limited(response, url, limit)
                return body, response.headers.get("content-type", "")
            finally:
                await response.aclose()
        logger.info("fetch of %s failed: over %d redirects", url, self._max_redirects)
        raise TooManyRedirects(url, self._max_redirects)

    async def _get(self, url: str, accept: str, signer: RequestSigner | None) -> httpx.Response:
        """One GET, signed and double-knocked when there is a signer."""
        headers = {"Accept": accept}
        if signer is None:
            return await self._send("GET", url, headers, None)
        host = _host_key(url)
        scheme = self._schemes.scheme_for(host)
        response = await self._send("GET", url, headers, None, signer, scheme)
        if response.status_code in _GET_KNOCK:
            await response.aclose()
            logger.info(
                "%s refused a %s signature (%d); trying the other scheme",
                host,
                scheme,
                response.status_code,
            )
            scheme = other_scheme(scheme)
            response = await self._send("GET", url, headers, None, signer, scheme)
        if response.status_code not in _GET_KNOCK:
            self._schemes.remember(host, scheme)
        return response

    # -- delivering ----------------------------------------------------------------------

    async def post_activity(
        self, inbox: str, body: bytes, *, signer: RequestSigner
    ) -> DeliveryResult:
        """POST ``body`` to ``inbox``, signed. Redirects are not followed (3xx is returned).

        Never raises for the remote's behaviour; see ``DeliveryResult``.
        """
        try:
            check_url_cached(inbox, allow_private=self._allow_private)
        except ForbiddenAddress as exc:
            logger.warning("not delivering to %s: %s", inbox, exc)
            return DeliveryResult(None, None, "forbidden", DEFAULT_SCHEME)
        host = _host_key(inbox)
        scheme = first = self._schemes.scheme_for(host)
        try:
            # asyncio's own deadline: anyio's cancel scope costs ~5% of a delivery's CPU
            async with asyncio.timeout(self._total_timeout):
                result = await self._post_once(inbox, body, signer, scheme)
                if result.status in _POST_KNOCK:
                    logger.info(
                        "%s refused a %s signature (%d); trying the other scheme",
                        host,
                        scheme,
                        result.status,
                    )
                    scheme = other_scheme(scheme)
                    result = await self._post_once(inbox, body, signer, scheme)
        except TimeoutError:
            result = DeliveryResult(None, None, "timeout", scheme)
        if result.status is not None and result.status not in _POST_KNOCK:
            self._schemes.remember(host, scheme)
        # A plain success is the common case (a fan-out is thousands of them): DEBUG; a
        # refusal, an error or a second knock is worth a line at INFO.
        plain = result.status is not None and 200 <= result.status < 300 and scheme == first
        logger.log(
            logging.DEBUG if plain else logging.INFO,
            "delivery to %s: %s (%s%s)",
            inbox,
            result.status or result.error,
            scheme,
            "" if scheme == first else ", second knock",
        )
        return result

    async def post_push(
        self, endpoint: str, body: bytes, headers: Mapping[str, str]
    ) -> DeliveryResult:
        """POST an encrypted Web Push message to an app's push service (RFC 8030), through
        the same address guard as every request; unsigned (VAPID is in ``headers``).
        Never raises for the push service's behaviour; see ``DeliveryResult``."""
        try:
            check_url(endpoint, allow_private=self._allow_private)
        except ForbiddenAddress as exc:
            logger.warning("not pushing to %s: %s", _host_key(endpoint), exc)
            return DeliveryResult(None, None, "forbidden", DEFAULT_SCHEME)
        try:
            with anyio.fail_after(self._total_timeout):
                response = await self._send("POST", endpoint, headers, body)
                try:
                    await skim(response, _DELIVERY_BODY_BYTES)
                finally:
                    await response.aclose()
        except TimeoutError:
            return DeliveryResult(None, None, "timeout", DEFAULT_SCHEME)
        except ForbiddenAddress as exc:
            logger.warning("not pushing to %s: %s", _host_key(endpoint), exc)
            return DeliveryResult(None, None, "forbidden", DEFAULT_SCHEME)
        except httpx.TransportError as exc:
            return DeliveryResult(None, None, _unreachable_reason(exc), DEFAULT_SCHEME)
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock())
        return DeliveryResult(response.status_code, retry_after, None, DEFAULT_SCHEME)

    async def _post_once(
        self, inbox: str, body: bytes, signer: RequestSigner, scheme: Scheme
    ) -> DeliveryResult:
        if self._deliver_over == "aiohttp":
            return await self._post_once_aiohttp(inbox, body, signer, scheme)
        headers = {"Content-Type": ACTIVITY_CONTENT_TYPE}
        try:
            response = await self._send("POST", inbox, headers, body, signer, scheme)
            try:
                # A short answer read to the end leaves the connection reusable.
                await skim(response, _DELIVERY_BODY_BYTES)
            finally:
                await response.aclose()
        except ForbiddenAddress as exc:
            logger.warning("not delivering to %s: %s", inbox, exc)
            return DeliveryResult(None, None, "forbidden", scheme)
        except httpx.TransportError as exc:
            return DeliveryResult(None, None, _unreachable_reason(exc), scheme)
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock())
        return DeliveryResult(response.status_code, retry_after, None, scheme)

    async def _post_once_aiohttp(
        self, inbox: str, body: bytes, signer: RequestSigner, scheme: Scheme
    ) -> DeliveryResult:
        if self._session is None:  # made here: aiohttp wants a running loop
            # Loaded in a thread: importing aiohttp takes 0.1-0.25 s of CPU, which on the
            # event loop would hold every request for that long.
            await anyio.to_thread.run_sync(importlib.import_module, "fedi_town.remote.aio")
        from fedi_town.remote import aio  # deferred: aiohttp (9 MB), with the first delivery

        if self._session is None:  # (another delivery may have made it meanwhile)
            self._session = aio.open_session(**self._session_options)
        ours = {
            "Host": _host_key(inbox),
            "Date": self._http_date(),
            "Content-Type": ACTIVITY_CONTENT_TYPE,
        }
        signed = await self._sign(signer, "POST", inbox, ours, body, scheme)
        # Case-insensitive, as in _send: a signer's "date" replaces our "Date".
        replaced = {name.lower() for name in signed}
        to_send = {name: value for name, value in ours.items() if name.lower() not in replaced}
        to_send.update(signed)
        for attempt in (1, 2):
            try:
                async with self._session.post(
                    inbox, data=body, headers=to_send, allow_redirects=False
                ) as response:
                    # A short answer read to the end leaves the connection reusable.
                    received = 0
                    async for chunk in response.content.iter_any():
                        received += len(chunk)
                        if received >= _DELIVERY_BODY_BYTES:
                            response.close()  # not worth reading: drop the connection
                            break
                    status = response.status
                    retry_after_header = response.headers.get("retry-after")
                break
            except ForbiddenAddress as exc:
                logger.warning("not delivering to %s: %s", inbox, exc)
                return DeliveryResult(None, None, "forbidden", scheme)
            except aio.CLIENT_ERRORS as exc:
                if attempt == 1 and aio.stale_connection(exc):
                    # uvicorn, Node and Apache close a connection idle for 5 s; one closed as
                    # our POST goes out on it answers nothing. aiohttp retries no POST, and
                    # the retry rule would wait 30 s: send once more at once, on a new
                    # connection (receivers drop an activity id they have seen before).
                    logger.debug("delivery to %s met a closed connection; again", inbox)
                    continue
                return DeliveryResult(None, None, aio.unreachable_reason(exc), scheme)
        retry_after = parse_retry_after(retry_after_header, self._clock())
        return DeliveryResult(status, retry_after, None, scheme)

    def _http_date(self) -> str:
        """Now as an HTTP Date (formatted once per second: a fan-out sends thousands)."""
        now = self._clock()
        second = int(now.timestamp())
        if second != self._date_second:
            self._date_second = second
            self._date_text = email.utils.format_datetime(now.astimezone(UTC), usegmt=True)
        return self._date_text

    # -- one request ---------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        signer: RequestSigner | None = None,
        scheme: Scheme = DEFAULT_SCHEME,
    ) -> httpx.Response:
        """Send one request and return the streamed response (the caller closes it)."""
        ours = {
            "Host": _host_key(url),
            "Date": email.utils.format_datetime(self._clock().astimezone(UTC), usegmt=True),
            **headers,
        }
        to_send = httpx.Headers(ours)
        if signer is not None:
            # Case-insensitive: a signer's "date" replaces our "Date" rather than doubling it.
            to_send.update(await self._sign(signer, method, url, ours, body, scheme))
        request = self._client.build_request(method, url, headers=to_send, content=body)
        return await self._client.send(request, stream=True)
