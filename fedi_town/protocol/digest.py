"""Body digests: ``Digest`` (RFC 3230, sent with cavage) and ``Content-Digest`` (RFC 9530).

A signature covers the digest header, the digest covers the body: both links must hold.
We make SHA-256 digests and check SHA-256 and SHA-512 ones against the raw body bytes as
received (never a re-serialised body). A header may list several digests: at least one
must be of an algorithm we know, and every one we know must match; unknown ones are
ignored, as both RFCs ask.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Collection
from functools import lru_cache

from fedi_town.protocol.httpsig_common import (
    BadBase64,
    DigestMismatch,
    Fields,
    MalformedSignature,
    MissingDigest,
    MissingSignedHeader,
    field_value,
)

#: Digest algorithm names (RFC 9530 registry spelling) and their hashlib names.
_HASHES = {"sha-256": "sha256", "sha-512": "sha512"}
_DIGEST_HEADERS = ("digest", "content-digest")


#: Bodies whose digest is kept: a fan-out signs one body for every inbox, so it is hashed
#: once per activity rather than per recipient (a bytes object keeps its own hash, so a hit
#: on the same body costs no pass over it).
DIGEST_CACHE_SIZE = 16


@lru_cache(maxsize=DIGEST_CACHE_SIZE)
def make_digest(body: bytes) -> str:
    """The ``Digest`` header value for ``body``: ``SHA-256=<base64>``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


@lru_cache(maxsize=DIGEST_CACHE_SIZE)
def make_content_digest(body: bytes) -> str:
    """The ``Content-Digest`` header value for ``body``: ``sha-256=:<base64>:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def check_digest(value: str, body: bytes) -> None:
    """Check an RFC 3230 ``Digest`` header (``SHA-256=<b64>[,SHA-512=<b64>]``) against ``body``."""
    digests: list[tuple[str, bytes]] = []
    for entry in value.split(","):
        name, sep, encoded = entry.strip().partition("=")
        if not sep:
            raise MalformedSignature("Digest header entry has no '='")
        if name.lower() not in _HASHES:
            continue
        try:
            digests.append((name.lower(), base64.b64decode(encoded.strip(), validate=True)))
        except (binascii.Error, ValueError):  # ValueError: non-ASCII in the header
            raise BadBase64("Digest value is not base64") from None
    _compare(digests, body, "Digest")


def check_content_digest(value: str, body: bytes) -> None:
    """Check an RFC 9530 ``Content-Digest`` header (``sha-256=:<b64>:``) against ``body``.

    Hand-written over http-sf rather than http-message-signatures' ``ContentDigest``,
    which rejects unknown algorithms where RFC 9530 asks us to ignore them.
    """
    from http_sf.compat import Dictionary, Item  # deferred: ~0.7 MB, RFC 9421 peers only

    members = Dictionary()
    try:
        members.parse(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise MalformedSignature("Content-Digest is not a structured dictionary") from None
    digests: list[tuple[str, bytes]] = []
    for name, member in members.items():
        if name not in _HASHES:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise MalformedSignature("Content-Digest value is not a byte sequence")
        digests.append((name, member.value))
    _compare(digests, body, "Content-Digest")


def _compare(digests: list[tuple[str, bytes]], body: bytes, header: str) -> None:
    if not digests:
        raise MissingDigest(f"{header} has no SHA-256 or SHA-512 digest")
    for name, expected in digests:
        if not hmac.compare_digest(hashlib.new(_HASHES[name], body).digest(), expected):
            raise DigestMismatch(f"{header} does not match the body")


def check_body_digests(
    fields: Fields, covered: Collection[str], body: bytes, *, body_request: bool
) -> None:
    """Apply the digest rules of a received request.

    Every digest header present must match the body. A request with a body (any POST)
    must carry one (``MissingDigest``) and sign it (``MissingSignedHeader``). Either
    header satisfies either scheme: some cavage signers send Content-Digest.
    """
    present = [name for name in _DIGEST_HEADERS if name in fields]
    for name in present:
        value = field_value(fields, name) or ""
        if name == "digest":
            check_digest(value, body)
        else:
            check_content_digest(value, body)
    if body_request:
        if not present:
            raise MissingDigest("request has a body but no digest")
        if not any(name in covered for name in present):
            raise MissingSignedHeader("the body digest is not signed")
