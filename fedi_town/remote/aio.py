"""The aiohttp session deliveries go out on, guarded like ``ssrf.GuardedTransport``.

Deliveries are the one request fedi-town sends by the thousand, and aiohttp sends them for
about half the CPU httpx needs (bench/delivery_ceiling.py). Fetches stay on httpx, where
redirects, decoding and size caps are handled by hand (``http.RemoteClient._follow``).

The same SSRF layers hold here (see ``ssrf``):

1. ``check_url`` on the inbox URL (``RemoteClient.post_activity`` runs it first);
2. ``GuardedResolver``: aiohttp resolves names only through it, and it refuses a name if any
   of its addresses is non-public (``ssrf.resolve_and_check``). aiohttp connects to the
   addresses it returned (cached for ``DNS_TTL_S``, still the checked ones);
3. ``guarded_socket``: the connector makes every socket through it, and it refuses any
   non-public address it is asked to connect to, whether it came from a name or an IP
   literal (aiohttp skips the resolver for those). So the address checked is the address
   connected to: no DNS-rebinding window.

No proxy (``trust_env=False``), no redirects, no automatic decompression (the answer is only
skimmed). ``allow_private`` turns the address checks off, as it does for httpx.

aiohttp keeps every idle keep-alive connection until its timeout, whatever their number; a
fan-out to thousands of servers would hold thousands of sockets. ``IdleCappedConnector``
closes the oldest idle ones beyond ``max_idle``, as httpx's ``max_keepalive_connections``.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from fedi_town.remote.errors import ForbiddenAddress, Unreachable
from fedi_town.remote.ssrf import Resolver, is_forbidden_address, resolve_and_check

#: What a delivery may raise for want of an answer (a TimeoutError is an OSError).
CLIENT_ERRORS = (aiohttp.ClientError, OSError)

#: How long aiohttp reuses a name's (checked) addresses.
DNS_TTL_S = 10

AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]


class GuardedResolver(AbstractResolver):
    """Resolves through ``ssrf.resolve_and_check``: any non-public address refuses the name."""

    def __init__(self, *, allow_private: bool, resolver: Resolver | None = None) -> None:
        self._allow_private = allow_private
        self._resolver = resolver

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await resolve_and_check(
            host, port, self._allow_private, resolver=self._resolver
        )
        found: list[ResolveResult] = []
        for text in addresses:
            version = ipaddress.ip_address(text).version
            found.append(
                {
                    "hostname": host,
                    "host": text,
                    "port": port,
                    "family": socket.AF_INET6 if version == 6 else socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        return found

    async def close(self) -> None:
        return None


def guarded_socket(allow_private: bool) -> Callable[[AddrInfo], socket.socket]:
    """A socket factory for aiohttp that refuses to connect to a non-public address."""

    def make(addr_info: AddrInfo) -> socket.socket:
        family, type_, proto, _, address = addr_info
        if not allow_private:
            try:
                checked = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
            except ValueError:
                raise ForbiddenAddress("refusing to connect to a malformed address") from None
            if is_forbidden_address(checked):
                raise ForbiddenAddress("refusing to connect to a non-public address")
        return socket.socket(family=family, type=type_, proto=proto)

    return make


class IdleCappedConnector(aiohttp.TCPConnector):
    """A ``TCPConnector`` that keeps at most ``max_idle`` idle connections in all.

    Counting the idle connections walks every host's list, so it is not done per release:
    ``_released`` counts releases since the last count, an upper bound of the idle number
    (aiohttp takes connections out for reuse and expiry without telling), and only when the
    last count plus that bound passes ``max_idle`` is the real number counted.
    """

    def __init__(self, *, max_idle: int, **options: Any) -> None:
        super().__init__(**options)
        self.max_idle = max_idle
        self._idle_bound = 0

    def idle_count(self) -> int:
        return sum(len(idle) for idle in self._conns.values())

    def _release(self, key: Any, protocol: Any, *, should_close: bool = False) -> None:
        super()._release(key, protocol, should_close=should_close)
        self._idle_bound += 1
        if self._idle_bound <= self.max_idle:
            return
        self._idle_bound = self.idle_count()
        if self._idle_bound > self.max_idle:
            keep = self.max_idle * 3 // 4
            self._close_oldest_idle(keep=keep)
            self._idle_bound = min(self._idle_bound, keep)

    def _close_oldest_idle(self, keep: int) -> None:
        """Close idle connections, oldest first, until ``keep`` are left (in one pass)."""
        hosts = enumerate(self._conns.items())
        ages = sorted((since, n, key) for n, (key, idle) in hosts for _, since in idle)
        for _, _, key in ages[: max(0, len(ages) - keep)]:
            idle = self._conns.get(key)
            if not idle:
                continue
            protocol, _ = idle.popleft()  # each host's list is oldest first
            protocol.close()
            if not idle:
                del self._conns[key]


def open_session(
    *,
    allow_private: bool,
    user_agent: str,
    connect_timeout: float,
    read_timeout: float,
    max_connections: int,
    max_keepalive_connections: int,
    keepalive_expiry: float,
    resolver: Resolver | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> aiohttp.ClientSession:
    """A session whose every connection goes through the guards above. Call in a loop."""
    connector = IdleCappedConnector(
        max_idle=max_keepalive_connections,
        limit=max_connections,
        limit_per_host=0,
        keepalive_timeout=keepalive_expiry,
        ssl=ssl_context or ssl.create_default_context(),
        resolver=GuardedResolver(allow_private=allow_private, resolver=resolver),
        socket_factory=guarded_socket(allow_private),
        ttl_dns_cache=DNS_TTL_S,
        happy_eyeballs_delay=None,  # one address after the other, as the httpx backend does
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": user_agent},
        timeout=aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        ),
        auto_decompress=False,
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
    )


def stale_connection(exc: BaseException) -> bool:
    """What a pooled connection that the server closed while idle raises on its next request
    (a failed new connection, ``ClientConnectorError``, is a ``ClientOSError`` too: not it)."""
    return isinstance(
        exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)
    ) and not isinstance(exc, aiohttp.ClientConnectorError)


def unreachable_reason(exc: aiohttp.ClientError | OSError) -> Unreachable:
    """Why a delivery got no answer, in ``DeliveryResult.error``'s terms."""
    if isinstance(exc, TimeoutError):  # aiohttp's read and connect timeouts are ones too
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connect"
    if isinstance(
        exc,
        (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError),
    ):
        return "protocol"
    return "network"
