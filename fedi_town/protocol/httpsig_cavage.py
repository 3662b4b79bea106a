"""draft-cavage-http-signatures-12, as Mastodon, GoToSocial, Pleroma and Misskey speak it.

A ``Signature`` header (or ``Authorization: Signature ...``) of comma-separated
``name="value"`` parameters: ``keyId``, ``algorithm``, ``headers``, ``signature`` and the
optional ``created`` / ``expires``. The signing string is one ``name: value`` line per
entry of ``headers``, in that order, joined by newlines. Use the functions of ``httpsig``;
this module holds the details.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from cryptography.hazmat.primitives.asymmetric import rsa

from fedi_town.protocol import digest
from fedi_town.protocol.httpsig_common import (
    BadBase64,
    Fields,
    MalformedDate,
    MalformedSignature,
    MissingSignedHeader,
    SignatureInput,
    UnsupportedAlgorithm,
    check_key_id,
    field_value,
    is_body_request,
    wire_bytes,
)
from fedi_town.protocol.keys import PrivateKey, default_algorithm, sign_bytes

#: ``name="quoted"`` or ``name=123`` (created/expires may be bare numbers), then , or end.
_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([0-9]+(?:\.[0-9]+)?))\s*')
_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})
_PSEUDO = frozenset({"(request-target)", "(created)", "(expires)"})


def parse(method: str, target: str, fields: Fields, body: bytes, header: str) -> SignatureInput:
    """Parse a cavage signature header and check it as far as possible without a key."""
    params = _parse_params(header)
    key_id = params.get("keyid", "")
    if not key_id or "signature" not in params:
        raise MalformedSignature("signature lacks keyId or signature")
    check_key_id(key_id)
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in _ALGORITHMS:
        raise UnsupportedAlgorithm("algorithm is not rsa-sha256 or hs2019")
    try:
        # ValueError: a str holding non-ASCII (a header byte over 0x7f) is not base64 either
        signature = base64.b64decode(params["signature"], validate=True)
    except (binascii.Error, ValueError):
        raise BadBase64("signature is not base64") from None
    if not signature:
        raise BadBase64("signature is empty")
    covered = tuple(params.get("headers", "date").lower().split())
    created = _timestamp(params, "created")
    expires = _timestamp(params, "expires")

    digest.check_body_digests(fields, covered, body, body_request=is_body_request(method, body))
    _check_coverage(covered, fields, method, body, created, expires)

    targets = [target]
    if "(request-target)" in covered and "?" in target:
        targets.append(target.partition("?")[0])
    pseudo = {"(created)": params.get("created", ""), "(expires)": params.get("expires", "")}
    messages = tuple(_signing_string(covered, method, each, fields, pseudo) for each in targets)
    return SignatureInput(
        scheme="cavage",
        key_id=key_id,
        algorithm=algorithm,
        covered=covered,
        created=created if "(created)" in covered and created is not None else _date(fields),
        expires=expires if "(expires)" in covered else None,
        host=field_value(fields, "host"),
        signature=signature,
        messages=messages,
    )


def _parse_params(header: str) -> dict[str, str]:
    """Split ``a="x",b="y"`` strictly: any leftover text means a malformed header."""
    params: dict[str, str] = {}
    position = 0
    while position < len(header):
        match = _PARAM.match(header, position)
        if match is None:
            raise MalformedSignature("Signature header does not parse")
        name = match.group(1).lower()
        if name in params:
            raise MalformedSignature("Signature header repeats a parameter")
        params[name] = match.group(2) if match.group(2) is not None else match.group(3)
        position = match.end()
        if position < len(header):
            if header[position] != ",":
                raise MalformedSignature("Signature header does not parse")
            position += 1
    if not params:
        raise MalformedSignature("Signature header is empty")
    return params


def _timestamp(params: dict[str, str], name: str) -> datetime | None:
    if name not in params:
        return None
    try:
        return datetime.fromtimestamp(float(params[name]), UTC)
    except (ValueError, OverflowError, OSError):
        raise MalformedSignature(f"{name} is not a timestamp") from None


def _check_coverage(
    covered: tuple[str, ...],
    fields: Fields,
    method: str,
    body: bytes,
    created: datetime | None,
    expires: datetime | None,
) -> None:
    """What must be signed (Mastodon's rules, plus the request target) and be present."""
    if not covered:
        raise MalformedSignature("headers parameter is empty")
    if "(request-target)" not in covered:
        raise MissingSignedHeader("(request-target) is not signed")
    if "date" not in covered and "(created)" not in covered:
        raise MissingSignedHeader("neither date nor (created) is signed")
    if not is_body_request(method, body) and "host" not in covered:
        raise MissingSignedHeader("host is not signed")
    for name in covered:
        if name not in _PSEUDO and name not in fields:
            raise MissingSignedHeader(f"signed header {name} is missing")
    if ("(created)" in covered and created is None) or ("(expires)" in covered and expires is None):
        raise MalformedSignature("(created) or (expires) is signed but has no value")


def _date(fields: Fields) -> datetime:
    value = field_value(fields, "date") or ""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise MalformedDate("Date header is not an HTTP date") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _signing_string(
    covered: tuple[str, ...],
    method: str,
    target: str,
    fields: Mapping[str, list[str]],
    pseudo: Mapping[str, str],
) -> bytes:
    lines = []
    for name in covered:
        if name == "(request-target)":
            value = f"{method.lower()} {target}"
        elif name in pseudo:
            value = pseudo[name]
        else:
            value = ", ".join(fields[name])
        lines.append(f"{name}: {value}")
    return wire_bytes("\n".join(lines))


def sign(
    method: str,
    target: str,
    headers: Mapping[str, str],
    *,
    key_id: str,
    private_key: PrivateKey,
) -> str:
    """The ``Signature`` header value for a request whose Host, Date (and Digest) are set.

    Signs ``(request-target) host date``, plus ``digest`` and ``content-type`` when the
    request has them: what Mastodon requires and every peer verifies.
    """
    fields = {name.lower(): [value.strip()] for name, value in headers.items()}
    covered = ["(request-target)", "host", "date"]
    covered += [
        name for name in ("digest", "content-type") if "digest" in fields and name in fields
    ]
    message = _signing_string(tuple(covered), method, target, fields, {})
    algorithm = default_algorithm(private_key)
    signature = base64.b64encode(sign_bytes(private_key, algorithm, message)).decode("ascii")
    declared = "rsa-sha256" if isinstance(private_key, rsa.RSAPrivateKey) else "hs2019"
    return (
        f'keyId="{key_id}",algorithm="{declared}",'
        f'headers="{" ".join(covered)}",signature="{signature}"'
    )
