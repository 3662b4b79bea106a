"""What the HTTP signature modules share: the parsed signature, header fields, the errors.

PURE: standard library only. ``httpsig`` (the front), the scheme modules ``httpsig_cavage``
and ``httpsig_rfc9421`` and the body ``digest`` all import from here, so the front can import
the schemes at the top and nothing imports back up. The error tree is drawn in ``httpsig``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeAlias

from fedi_town.errors import SignatureError

Scheme: TypeAlias = Literal["cavage", "rfc9421"]
Headers: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
Fields: TypeAlias = dict[str, list[str]]
"""Header field lines by lowercase name, in arrival order, values trimmed."""


class MissingSignature(SignatureError):
    """The request carries no HTTP signature at all."""


class MalformedSignature(SignatureError):
    """A signature header is present but its syntax or parameters are wrong."""


class BadBase64(SignatureError):
    """The signature (or a digest) is not valid base64."""


class UnsupportedAlgorithm(SignatureError):
    """The signature names an algorithm we do not verify."""


class MissingSignedHeader(SignatureError):
    """A header named as signed is absent, or a header that must be signed is not."""


class MissingDigest(SignatureError):
    """A request with a body has no Digest or Content-Digest we can check."""


class DigestMismatch(SignatureError):
    """The Digest or Content-Digest header does not match the body received."""


class MalformedDate(SignatureError):
    """The signed Date header is not an HTTP date."""


class DateTooOld(SignatureError):
    """The request was signed longer ago than the allowed skew, or has expired."""


class DateInFuture(SignatureError):
    """The request claims to be signed further in the future than the allowed skew."""


class HostMismatch(SignatureError):
    """The Host header names another server than this one."""


class InvalidSignature(SignatureError):
    """The signature does not verify with the signer's key."""


class UnknownKey(SignatureError):
    """The keyId could not be resolved to a key (raised by the key fetcher)."""


class KeyOwnerMismatch(SignatureError):
    """The key does not belong to the actor the activity claims (raised by the caller)."""


@dataclass(frozen=True)
class SignatureInput:
    """A request signature, parsed and checked as far as possible without key and clock.

    ``messages`` are the exact bytes the signer may have signed, best guess first (for
    cavage, the second drops the query from ``(request-target)``, as Mastodon and
    GoToSocial retry; for RFC 9421, the second adds the served key id's fragment to
    ``@target-uri``, as Fedify signs key fetches).
    """

    scheme: Scheme
    key_id: str
    #: Declared algorithm, lowercase ("hs2019" when a cavage signer left it out; None when
    #: an RFC 9421 signer did, and the key type decides).
    algorithm: str | None
    #: Signed header names / component names, in signed order.
    covered: tuple[str, ...]
    #: When the request was signed: ``(created)``, RFC 9421 ``created``, or the Date header.
    created: datetime
    expires: datetime | None
    #: The Host header as received, if any.
    host: str | None
    signature: bytes = field(repr=False)
    messages: tuple[bytes, ...] = field(repr=False)
    #: RFC 9421 only: the label of the signature we picked, its nonce and tag.
    label: str | None = None
    nonce: str | None = None
    tag: str | None = None


def collect_fields(headers: Headers) -> Fields:
    """Group header lines by lowercase name, keeping repeats and order."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    fields: Fields = {}
    for name, value in pairs:
        fields.setdefault(name.strip().lower(), []).append(value.strip(" \t"))
    return fields


def field_value(fields: Fields, name: str) -> str | None:
    """One header's value, repeated lines joined with ", " (RFC 9110 section 5.3)."""
    values = fields.get(name)
    return None if values is None else ", ".join(values)


def wire_bytes(text: str) -> bytes:
    """Bytes of a signing string. ASGI hands us headers decoded as Latin-1, so encoding
    them back as Latin-1 gives the bytes on the wire; anything beyond is UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


#: The longest keyId we take: it is logged, looked up and stored like any other id.
MAX_KEY_ID = 2048


def check_key_id(key_id: str) -> None:
    """Refuse a keyId that could not be an id: too long, or holding control characters or
    other unprintable ones (which would reach logs and queries as they are)."""
    if len(key_id) > MAX_KEY_ID or not key_id.isprintable():
        raise MalformedSignature("keyId is not a printable id")


def is_body_request(method: str, body: bytes) -> bool:
    """Whether the request must sign a digest of its body (any POST, any body)."""
    return bool(body) or method.upper() == "POST"
