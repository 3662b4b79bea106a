"""HTTP signatures on requests: parse, verify and sign, draft-cavage and RFC 9421.

Bytes and plain values in, a verdict out; no web framework, no network. Verifying takes
two phases so the caller can fetch the signer's key in between:

    sig = parse_request_signature(method, target, headers, body, origin=public_origin)
    precheck_request_signature(sig, now=now, expected_host=host)   # optional: before the fetch
    key = <fetch sig.key_id>                                        # remote/ does this
    verify_request_signature(sig, key, now=now, expected_host=host)

``parse`` checks everything that needs neither key nor clock (syntax, what is signed, the
body digest). ``precheck`` adds the clock and the Host; ``verify`` runs ``precheck`` and
the cryptography. Every failure is a ``SignatureError`` subclass naming what went wrong:

    SignatureError (fedi_town.errors)
    ├── MissingSignature        no Signature / Signature-Input / Authorization: Signature
    ├── MalformedSignature      a signature header we cannot parse
    ├── BadBase64               the signature bytes are not base64
    ├── UnsupportedAlgorithm    an algorithm we do not verify
    ├── MissingSignedHeader     a signed header is absent, or a required one is unsigned
    ├── MissingDigest           a request with a body carries no usable digest
    ├── DigestMismatch          Digest / Content-Digest does not match the body
    ├── MalformedDate           the Date header does not parse
    ├── DateTooOld              signed (or expired) too long ago
    ├── DateInFuture            signed too far in the future
    ├── HostMismatch            the Host header is not ours
    ├── InvalidSignature        the cryptographic check failed
    ├── UnknownKey              keyId cannot be fetched (raised by remote/)
    ├── KeyOwnerMismatch        the key does not belong to the actor (raised by remote/)
    └── BadPublicKey            a publicKeyPem we cannot use (defined in keys.py)

The scheme modules ``httpsig_cavage`` and ``httpsig_rfc9421`` and the body digests in
``digest`` hold the details; what they share (these errors, ``SignatureInput``, header
fields) is in ``httpsig_common``. This module is the front the rest of the code imports.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from fedi_town.protocol import digest, httpsig_cavage
from fedi_town.protocol.httpsig_common import (
    BadBase64,
    DateInFuture,
    DateTooOld,
    DigestMismatch,
    Headers,
    HostMismatch,
    InvalidSignature,
    KeyOwnerMismatch,
    MalformedDate,
    MalformedSignature,
    MissingDigest,
    MissingSignature,
    MissingSignedHeader,
    Scheme,
    SignatureInput,
    UnknownKey,
    UnsupportedAlgorithm,
    collect_fields,
    field_value,
)
from fedi_town.protocol.keys import (
    Algorithm,
    BadPublicKey,
    PrivateKey,
    PublicKey,
    algorithm_named,
    verify_bytes,
)

__all__ = [
    "DEFAULT_MAX_SKEW",
    "BadBase64",
    "BadPublicKey",
    "DateInFuture",
    "DateTooOld",
    "DigestMismatch",
    "Headers",
    "HostMismatch",
    "InvalidSignature",
    "KeyOwnerMismatch",
    "MalformedDate",
    "MalformedSignature",
    "MissingDigest",
    "MissingSignature",
    "MissingSignedHeader",
    "Scheme",
    "SignatureInput",
    "UnknownKey",
    "UnsupportedAlgorithm",
    "parse_request_signature",
    "precheck_request_signature",
    "sign_request",
    "verify_request_signature",
]

logger = logging.getLogger(__name__)

#: Mastodon accepts a Date from about now-65 min to now+60 min; one hour each way is close.
DEFAULT_MAX_SKEW = timedelta(hours=1)


def parse_request_signature(
    method: str,
    target: str,
    headers: Headers,
    body: bytes,
    *,
    origin: str | None = None,
    target_fragment: str | None = None,
) -> SignatureInput:
    """Parse the signature of a received request; check what needs no key and no clock.

    ``target`` is the raw path plus ``?query`` exactly as received. ``headers`` may be a
    mapping or a list of pairs (repeats kept). ``origin`` is this server's public
    ``scheme://host[:port]`` for RFC 9421's ``@target-uri`` and ``@authority``; when
    omitted, ``https://`` plus the Host header is used. RFC 9421 (Signature-Input) wins
    over cavage (Signature, or ``Authorization: Signature ...``).

    ``target_fragment``: a fragment the signer may have left on RFC 9421's
    ``@target-uri`` (Fedify signs a key fetch of ``…#main-key`` with it); the base with it
    is tried only after the base without. Pass the fragment of the key id served at
    ``target``, nothing else.
    """
    fields = collect_fields(headers)
    if "signature-input" in fields:
        # http-message-signatures and http-sf: ~1.6 MB resident that a process needs only
        # once a peer signs this way
        from fedi_town.protocol import httpsig_rfc9421  # deferred: RFC 9421 peers only

        return httpsig_rfc9421.parse(
            method, target, fields, body, origin=origin, fragment=target_fragment
        )
    if "signature" in fields:
        if len(fields["signature"]) > 1:
            raise MalformedSignature("more than one Signature header")
        return httpsig_cavage.parse(method, target, fields, body, fields["signature"][0])
    authorization = field_value(fields, "authorization") or ""
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() == "signature" and rest.strip():
        return httpsig_cavage.parse(method, target, fields, body, rest.strip())
    raise MissingSignature("request is not signed")


def precheck_request_signature(
    sig: SignatureInput,
    *,
    now: datetime,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
    expected_host: str | None = None,
) -> None:
    """Check the signing time against ``now`` and the Host against ours.

    Cheap and key-free, so an inbox can reject stale or misdirected requests before it
    fetches any key. ``verify_request_signature`` runs it again.
    """
    _require_aware(now)
    if expected_host is not None and (sig.host or "").lower() != expected_host.lower():
        raise HostMismatch("Host header does not name this server")
    if sig.created > now + max_skew:
        raise DateInFuture("request is signed too far in the future")
    if sig.created < now - max_skew:
        raise DateTooOld("request was signed too long ago")
    if sig.expires is not None and sig.expires < now - max_skew:
        raise DateTooOld("signature has expired")


def verify_request_signature(
    sig: SignatureInput,
    public_key: PublicKey,
    *,
    now: datetime,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
    expected_host: str | None = None,
) -> None:
    """Verify a parsed signature with the signer's public key; raise on any failure.

    Runs ``precheck_request_signature`` first. Returns nothing: reaching the end means
    the request was signed by the holder of ``public_key``. Whether that key belongs to
    the activity's actor is the caller's question (``KeyOwnerMismatch``).
    """
    precheck_request_signature(sig, now=now, max_skew=max_skew, expected_host=expected_host)
    for algorithm in _algorithms_for(sig, public_key):
        for attempt, message in enumerate(sig.messages):
            if verify_bytes(public_key, algorithm, sig.signature, message):
                if attempt:
                    logger.debug("signature by %s verified on its second base", sig.key_id)
                return
    logger.debug("signature by %s (%s) did not verify", sig.key_id, sig.scheme)
    raise InvalidSignature("signature does not verify with the signer's key")


def _algorithms_for(sig: SignatureInput, key: PublicKey) -> tuple[Algorithm, ...]:
    """Which algorithms to try: the declared one, or the key type's when none is declared.

    Cavage ``rsa-sha256`` and ``hs2019`` both mean PKCS#1 v1.5 with SHA-256 for an RSA key
    (as Mastodon verifies them); ``hs2019`` with an Ed25519 key means Ed25519.
    """
    if isinstance(key, rsa.RSAPublicKey):
        if sig.scheme == "cavage":
            return ("rsa-v1_5-sha256",)
        if sig.algorithm is None:
            return ("rsa-v1_5-sha256", "rsa-pss-sha512")
    elif isinstance(key, ed25519.Ed25519PublicKey):
        if sig.scheme == "cavage":
            return () if sig.algorithm == "rsa-sha256" else ("ed25519",)
        if sig.algorithm is None:
            return ("ed25519",)
    else:  # a caller that bypassed keys.load_public_key
        raise UnsupportedAlgorithm("key is neither RSA nor Ed25519")
    declared = algorithm_named(sig.algorithm or "")
    return (declared,) if declared is not None else ()


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    key_id: str,
    private_key: PrivateKey,
    now: datetime,
    scheme: Scheme = "cavage",
    algorithm: Algorithm | None = None,
) -> dict[str, str]:
    """Sign an outgoing request; return every header to send with it.

    The result is ``headers`` plus Host, Date, Digest (cavage) or Content-Digest
    (RFC 9421) when there is a body, Signature, and for RFC 9421 Signature-Input. Any
    of those already in ``headers`` are replaced. Cavage signs ``(request-target) host
    date [digest content-type]``; RFC 9421 signs ``@method @target-uri @authority
    [content-digest content-type]`` with ``created``, ``keyid`` and ``alg``, label
    ``sig1``. ``algorithm`` picks ``rsa-pss-sha512`` over the default for RFC 9421.
    """
    _require_aware(now)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("url must be an absolute http(s) URL")
    if '"' in key_id or "\\" in key_id:
        raise ValueError("key_id must not contain quotes or backslashes")
    out = {k: v for k, v in headers.items() if k.lower() not in _SET_BY_SIGNER}
    out["Host"] = parts.netloc
    out["Date"] = format_datetime(now.astimezone(UTC), usegmt=True)
    if scheme == "cavage":
        if algorithm is not None:
            raise ValueError("cavage signatures pick their algorithm from the key")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if body is not None:
            out["Digest"] = digest.make_digest(body)
        out["Signature"] = httpsig_cavage.sign(
            method, target, out, key_id=key_id, private_key=private_key
        )
        return out
    if body is not None:
        out["Content-Digest"] = digest.make_content_digest(body)
    from fedi_town.protocol import httpsig_rfc9421  # deferred: see parse_request_signature

    return httpsig_rfc9421.sign(
        method,
        url,
        out,
        has_body=body is not None,
        key_id=key_id,
        private_key=private_key,
        now=now,
        algorithm=algorithm,
    )


_SET_BY_SIGNER = frozenset(
    {"host", "date", "digest", "content-digest", "signature", "signature-input"}
)


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
