"""Request signers bound to one of our actors: the glue between keys and the HTTP client.

A signer holds the actor's parsed private key (parsing a PEM costs ~38 ms, so
``keys.load_private_key`` caches it) and signs with the scheme the client asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Literal

from fedi_town import keys_at_rest
from fedi_town.protocol import httpsig
from fedi_town.protocol.keys import load_private_key
from fedi_town.remote.knock import RequestSigner
from fedi_town.services import Services
from fedi_town.store.businesses import Business


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


def instance_signer(services: Services) -> RequestSigner:
    """Signs as the instance actor (every server-to-server GET goes out this way)."""
    signer = services.extras.get("instance_signer")
    if signer is None:
        signer = KeySigner(
            services.urls.instance_key_id(),
            services.extras["instance_private_pem"],
            services.clock,
        )
        services.extras["instance_signer"] = signer
    result: RequestSigner = signer
    return result


def business_signer(services: Services, business: Business) -> RequestSigner:
    """Signs as ``business`` (deliveries of its activities)."""
    return KeySigner(
        services.urls.key_id(business.username),
        keys_at_rest.private_pem(services, business.sealed_private_key),
        services.clock,
    )
