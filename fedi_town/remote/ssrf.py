"""Which servers fedi-town may talk to: the guard against server-side request forgery.

Remote documents hand us URLs (inboxes, key ids, redirects) and we fetch them, so a hostile
peer could point us at our own network: ``http://169.254.169.254/`` (cloud metadata),
``https://localhost:5432/``, a name that resolves to ``10.0.0.7``. Three layers refuse that:

1. ``check_url``: the URL itself. https only (http too when ``allow_private``), no userinfo,
   no non-public IP literal. Cheap and synchronous; run on the first URL and, through
   ``check_redirect``, on every redirect target. ``check_url_cached`` gives the same
   verdict, keeping it per origin (a fan-out sends to thousands of inboxes on few hosts).
2. ``resolve_and_check``: resolves a host (``loop.getaddrinfo``) and refuses it if **any**
   address is non-public.
3. ``GuardedNetworkBackend``: the httpcore network backend under every connection the
   client opens. It resolves and checks the host itself and then connects to one of the
   checked addresses, so the address we check is the address we connect to. No DNS
   rebinding window, and no URL-parser quirk can route around it.

``allow_private`` (development, tests on 127.0.0.1) turns layers 1–3 off for addresses and
allows plain http; scheme and userinfo rules still hold.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import lru_cache

import anyio
import httpcore
import httpx

from fedi_town.remote.errors import ForbiddenAddress

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Resolves ``(host, port)`` to IP address strings. Tests may pass their own.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT
# What a DNS name looks like once IDNA-encoded; anything else (%, spaces, ...) is refused.
_HOSTNAME = re.compile(r"[A-Za-z0-9_.-]+")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known NAT64 prefix embeds an IPv4


def is_forbidden_address(address: IPAddress) -> bool:
    """True if ``address`` is not a public unicast address we may connect to."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and is_forbidden_address(embedded):
            return True
        if address.is_site_local:  # fec0::/10, deprecated but still routed on some LANs
            return True
    return (
        address.is_loopback
        or address.is_private  # RFC 1918, fc00::/7, 0.0.0.0/8, documentation ranges, ...
        or address.is_link_local  # 169.254/16 (cloud metadata), fe80::/10
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address in _SHARED_ADDRESS_SPACE
        or not address.is_global  # the rest of IANA's special-purpose registries
    )


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(url: str, *, allow_private: bool) -> None:
    """Raise ``ForbiddenAddress`` unless ``url`` is one we may request.

    A hostname passes here; its addresses are checked when we connect (``resolve_and_check``
    via ``GuardedNetworkBackend``).
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise ForbiddenAddress("refusing an invalid URL") from None
    host = parsed.host
    allowed_schemes = ("http", "https") if allow_private else ("https",)
    if parsed.scheme not in allowed_schemes:
        raise ForbiddenAddress(f"refusing {parsed.scheme or 'a relative'} URL for {host or '?'}")
    if not host:
        raise ForbiddenAddress("refusing a URL without a host")
    if parsed.userinfo:
        raise ForbiddenAddress(f"refusing a URL with userinfo for {host}")
    literal = _ip_literal(host)
    if literal is None and not _HOSTNAME.fullmatch(parsed.raw_host.decode("ascii", "replace")):
        raise ForbiddenAddress("refusing a URL with a malformed host")
    if literal is not None and not allow_private and is_forbidden_address(literal):
        raise ForbiddenAddress(f"refusing {host}: not a public address")


#: Origins (``scheme://authority``) whose verdict ``check_url_cached`` keeps.
ORIGIN_CACHE_SIZE = 4096
_ORIGIN_END = re.compile(r"[/?#]")
_NON_PRINTABLE = re.compile(r"[\x00-\x1f\x7f]")
_MAX_URL_LENGTH = 65536  # httpx refuses longer URLs (InvalidURL)


def split_origin(url: str) -> tuple[str, str] | None:
    """``(scheme://authority, rest)`` of an http(s) URL, split where httpx splits it (the
    authority ends at the first ``/``, ``?`` or ``#``); None for anything else."""
    if url.startswith("https://"):
        start = 8
    elif url.startswith("http://"):
        start = 7
    else:
        return None
    end = _ORIGIN_END.search(url, start)
    cut = len(url) if end is None else end.start()
    return url[:cut], url[cut:]


def check_url_cached(url: str, *, allow_private: bool) -> None:
    """``check_url``'s verdict, kept per origin: everything it checks (scheme, userinfo,
    host) is in the origin, and the rest of the URL only has to parse, which it does unless
    it holds a non-printable character or is too long (then ``check_url`` judges it)."""
    parts = split_origin(url)
    if parts is None or len(url) > _MAX_URL_LENGTH or _NON_PRINTABLE.search(parts[1]):
        check_url(url, allow_private=allow_private)
        return
    _check_origin(parts[0], allow_private)


@lru_cache(maxsize=ORIGIN_CACHE_SIZE)
def _check_origin(origin: str, allow_private: bool) -> None:
    check_url(origin, allow_private=allow_private)  # a refusal raises: not kept


def check_redirect(current_url: str, location: str, *, allow_private: bool) -> str:
    """Resolve a ``Location`` against ``current_url``, check it, return the absolute URL."""
    try:
        target = str(httpx.URL(current_url).join(location))
    except httpx.InvalidURL:
        raise ForbiddenAddress("refusing a redirect to an invalid URL") from None
    check_url(target, allow_private=allow_private)
    return target


async def system_resolver(host: str, port: int) -> list[str]:
    """The event loop's ``getaddrinfo``, as distinct address strings in its order."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError:  # the IDNA codec: a label over 63 characters, an empty label
        raise OSError(f"{host[:100]}: not a host name") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def resolve_and_check(
    host: str, port: int, allow_private: bool, *, resolver: Resolver | None = None
) -> list[str]:
    """Resolve ``host`` and return its addresses, or raise ``ForbiddenAddress`` if any is
    not public (unless ``allow_private``). Resolution failures raise ``OSError``."""
    addresses = list(await (resolver or system_resolver)(host, port))
    if not addresses:
        raise OSError(f"{host}: no addresses")
    if allow_private:
        return addresses
    for text in addresses:
        address = _ip_literal(text)
        if address is None or is_forbidden_address(address):
            logger.warning("refused %s: it resolves to a non-public address", host)
            raise ForbiddenAddress(f"refusing {host}: it resolves to a non-public address")
    return addresses


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks every host at connect time, then connects to a checked address.

    TLS still verifies the certificate against the hostname: httpcore passes the hostname
    (not our address) to ``start_tls`` as ``server_hostname``.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve_and_check(
                    host, port, self._allow_private, resolver=self._resolver
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"{host}: name resolution timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"{host}: cannot resolve") from exc
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ForbiddenAddress("refusing a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose network backend is guarded.

    httpx takes no network backend, so the pool it builds is replaced by one that has ours.
    ``_pool`` is all ``handle_async_request`` uses; the loopback tests fail loudly (a
    ``localhost`` request gets through) if a future httpx stops honouring it.
    No proxies and no environment: a proxy would connect on our behalf, unchecked.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        limits: httpx.Limits,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        context = ssl_context or httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=context, trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(allow_private=allow_private, resolver=resolver),
        )
