"""Request signers bound to one of our actors: the glue between keys and the HTTP client.

A signer holds the actor's parsed private key (parsing a PEM costs ~38 ms, so
``keys.load_private_key`` caches it) and signs with the scheme the client asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Literal

from fedi_town.protocol import httpsig
from fedi_town.protocol.keys import load_private_key
from fedi_town.protocol.urls import Urls
from fedi_town.remote.knock import RequestSigner
from fedi_town.store.businesses import Business
from fedi_town.store.keys_at_rest import SealedKeys


class KeySigner:
    """Signs requests as the actor whose key is ``key_id``."""

    def __init__(self, key_id: str, private_pem: str, clock: Callable[[], datetime]) -> None:
        self.key_id = key_id
        self._key = load_private_key(private_pem)
        self._clock = clock

    def __repr__(self) -> str:
        return f"KeySigner({self.key_id!r})"

    def __call__(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        scheme: Literal["cavage", "rfc9421"],
    ) -> dict[str, str]:
        return httpsig.sign_request(
            method,
            url,
            headers,
            body,
            key_id=self.key_id,
            private_key=self._key,
            now=self._clock(),
            scheme=scheme,
        )


class InstanceKey:
    """The instance actor's key pair, opened at start (``instance.ensure_instance_key``),
    and the signer every server-to-server GET goes out with. Never in a repr."""

    def __init__(
        self, key_id: str, private_pem: str, public_pem: str, clock: Callable[[], datetime]
    ) -> None:
        self.private_pem = private_pem
        self.public_pem = public_pem
        self.signer: RequestSigner = KeySigner(key_id, private_pem, clock)

    def __repr__(self) -> str:
        return f"InstanceKey({self.signer!r})"


def business_signer(
    business: Business, *, urls: Urls, keys: SealedKeys, clock: Callable[[], datetime]
) -> RequestSigner:
    """Signs as ``business`` (deliveries of its activities), with its key opened from ``keys``."""
    return KeySigner(
        urls.key_id(business.username), keys.private_pem(business.sealed_private_key), clock
    )
