"""RFC 9421 HTTP Message Signatures, as Fedify 2.x sends first and Mastodon 4.5 verifies.

``Signature-Input`` and ``Signature`` are structured-field dictionaries keyed by a label
(Fedify and we use ``sig1``). The signature base is one ``"<component>": <value>`` line per
covered component, then ``"@signature-params": <the inner list as received>``.

Which library does what:
- http-message-signatures resolves component values (derived ``@...`` components, header
  normalisation, ``;sf``/``;key``/``;bs``) and, for signing, builds the whole base.
- Verification assembles the base by hand over http-sf: the library's verifier reads the
  wall clock, fixes one algorithm per verifier, requires a tag to choose among labels and
  folds every failure into one exception, while we take ``now``, infer the algorithm from
  the key when ``alg`` is absent and name each failure.
Use the functions of ``httpsig``; this module holds the details.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from http_message_signatures import (
    HTTPMessageSigner,
    HTTPSignatureComponentResolver,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from http_sf.compat import Dictionary, InnerList, Item

from fedi_town.protocol import digest
from fedi_town.protocol.httpsig_common import (
    BadBase64,
    Fields,
    MalformedSignature,
    MissingSignedHeader,
    SignatureInput,
    UnsupportedAlgorithm,
    check_key_id,
    field_value,
    is_body_request,
    wire_bytes,
)
from fedi_town.protocol.keys import (
    Algorithm,
    PrivateKey,
    algorithm_named,
    default_algorithm,
    sign_bytes,
)

LABEL = "sig1"
GET_COMPONENTS = ("@method", "@target-uri", "@authority")
BODY_COMPONENTS = ("@method", "@target-uri", "@authority", "content-digest", "content-type")
#: A signature must bind the request's target through one of these.
_TARGET_COMPONENTS = frozenset({"@target-uri", "@path", "@request-target"})
_SIGNERS = {
    "rsa-v1_5-sha256": algorithms.RSA_V1_5_SHA256,
    "rsa-pss-sha512": algorithms.RSA_PSS_SHA512,
    "ed25519": algorithms.ED25519,
}


@dataclass
class _Message:
    """The request shape http-message-signatures reads: method, absolute URL, headers."""

    method: str
    url: str
    headers: _FieldLines | dict[str, str]


class _FieldLines:
    """Read-only headers that keep repeated lines, for the component resolver."""

    def __init__(self, fields: Fields) -> None:
        self._pairs = [(name, value) for name, values in fields.items() for value in values]

    def items(self) -> Iterable[tuple[str, str]]:
        return list(self._pairs)


def parse(
    method: str,
    target: str,
    fields: Fields,
    body: bytes,
    *,
    origin: str | None,
    fragment: str | None = None,
) -> SignatureInput:
    """Parse an RFC 9421 signature and check it as far as possible without a key.

    With several labels, the first one in Signature-Input that also has a signature is
    used; Fedify and Mastodon send one.

    ``fragment`` (without ``#``): a second signature base, tried after the plain one, whose
    ``@target-uri`` ends in ``#fragment``. Fedify signs the key id it fetches as the target,
    fragment and all (``…/users/x#main-key``), though a fragment never reaches the server.
    """
    inputs = _dictionary(fields, "signature-input")
    if "signature" not in fields:
        raise MalformedSignature("Signature-Input without Signature")
    signatures = _dictionary(fields, "signature")
    label = next((name for name in inputs if name in signatures), None)
    if label is None:
        raise MalformedSignature("no Signature-Input label has a Signature")
    components, signature = inputs[label], signatures[label]
    if not isinstance(components, InnerList) or not isinstance(signature, Item):
        raise MalformedSignature("signature members have the wrong shape")
    if not isinstance(signature.value, bytes):
        raise MalformedSignature("signature is not a byte sequence")
    if not signature.value:
        raise BadBase64("signature is empty")

    params = components.params
    key_id, alg = params.get("keyid"), params.get("alg")
    if not isinstance(key_id, str) or not key_id:
        raise MalformedSignature("signature lacks keyid")
    check_key_id(key_id)
    if alg is not None and (not isinstance(alg, str) or algorithm_named(alg) is None):
        raise UnsupportedAlgorithm("alg is not rsa-v1_5-sha256, rsa-pss-sha512 or ed25519")
    created, expires = _timestamp(params, "created"), _timestamp(params, "expires")
    if created is None:
        raise MissingSignedHeader("signature has no created time")

    names = tuple(_component_name(item) for item in components)
    if len(set(map(str, components))) != len(components):
        raise MalformedSignature("a component is covered twice")
    digest.check_body_digests(fields, names, body, body_request=is_body_request(method, body))
    _check_coverage(names, fields, method, body)

    return SignatureInput(
        scheme="rfc9421",
        key_id=key_id,
        algorithm=alg,
        covered=names,
        created=created,
        expires=expires,
        host=field_value(fields, "host"),
        signature=signature.value,
        messages=_signature_bases(components, method, target, fields, origin, fragment),
        label=label,
        nonce=_optional_str(params, "nonce"),
        tag=_optional_str(params, "tag"),
    )


def _dictionary(fields: Fields, name: str) -> Dictionary:
    parsed = Dictionary()
    try:
        parsed.parse((field_value(fields, name) or "").encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise MalformedSignature(f"{name} is not a structured dictionary") from None
    if not parsed:
        raise MalformedSignature(f"{name} is empty")
    return parsed


def _timestamp(params: Mapping[str, object], name: str) -> datetime | None:
    value = params.get(name)
    if value is None:
        return None
    if type(value) is not int:
        raise MalformedSignature(f"{name} is not an integer")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError):
        raise MalformedSignature(f"{name} is out of range") from None


def _optional_str(params: Mapping[str, object], name: str) -> str | None:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise MalformedSignature(f"{name} is not a string")
    return value


def _component_name(item: object) -> str:
    if not isinstance(item, Item) or not isinstance(item.value, str):
        raise MalformedSignature("a covered component is not a string")
    return item.value


def _check_coverage(names: tuple[str, ...], fields: Fields, method: str, body: bytes) -> None:
    """The method and target must be signed, and every signed header present."""
    if "@method" not in names or not _TARGET_COMPONENTS.intersection(names):
        raise MissingSignedHeader("@method and @target-uri (or @path) must be signed")
    for name in names:
        if not name.startswith("@") and name not in fields:
            raise MissingSignedHeader(f"signed header {name} is missing")


def _signature_bases(
    components: InnerList,
    method: str,
    target: str,
    fields: Fields,
    origin: str | None,
    fragment: str | None,
) -> tuple[bytes, ...]:
    """The signature base as received, then (with ``fragment`` and ``@target-uri``
    covered) the same base with ``#fragment`` on the target URI."""
    plain = _signature_base(components, method, target, fields, origin)
    if not fragment or "@target-uri" not in (item.value for item in components):
        return (plain,)
    return plain, _signature_base(components, method, target, fields, origin, fragment)


def _signature_base(
    components: InnerList,
    method: str,
    target: str,
    fields: Fields,
    origin: str | None,
    fragment: str | None = None,
) -> bytes:
    """Rebuild the signature base from the request as this server received it (with
    ``fragment`` appended to ``@target-uri``)."""
    host = field_value(fields, "host")
    if origin is None and not host:
        raise MalformedSignature("no Host header to build the target URI from")
    url = (origin or f"https://{host}").rstrip("/") + target
    try:
        message = _Message(method.upper(), url, _FieldLines(fields))
        # The library's resolver is untyped; its resolve() returns str for every component.
        resolver = HTTPSignatureComponentResolver(message)  # type: ignore[no-untyped-call]
        lines = [f"{item}: {resolver.resolve(item)}" for item in components]
        if fragment:
            lines = [
                f"{line}#{fragment}" if item.value == "@target-uri" else line
                for item, line in zip(components, lines, strict=True)
            ]
    except HTTPMessageSignaturesException:
        raise MalformedSignature("a covered component cannot be resolved") from None
    lines.append(f'"@signature-params": {components}')
    return wire_bytes("\n".join(lines))


def sign(
    method: str,
    url: str,
    headers: dict[str, str],
    *,
    has_body: bool,
    key_id: str,
    private_key: PrivateKey,
    now: datetime,
    algorithm: Algorithm | None,
) -> dict[str, str]:
    """Add ``Signature-Input`` and ``Signature`` to ``headers`` (Host, Date and
    Content-Digest already set) and return them."""
    algorithm = algorithm or default_algorithm(private_key)
    components: tuple[str, ...] = BODY_COMPONENTS if has_body else GET_COMPONENTS
    if "content-type" not in {name.lower() for name in headers}:
        components = tuple(name for name in components if name != "content-type")
    message = _Message(method.upper(), url, headers)
    signer = HTTPMessageSigner(signature_algorithm=_SIGNERS[algorithm])
    try:
        prepared = signer.prepare(
            message,
            key_id=key_id,
            created=now,
            label=LABEL,
            covered_component_ids=components,
            use_existing_digest=has_body,
        )
        signer.apply(message, prepared, sign_bytes(private_key, algorithm, prepared.signature_base))
    except HTTPMessageSignaturesException as exc:
        raise ValueError(f"request cannot be signed: {exc}") from None
    return headers
