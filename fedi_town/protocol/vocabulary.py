"""The ActivityStreams vocabulary we write: JSON-LD contexts, the public address, timestamps.

PURE: standard library only. Every document and activity we build takes its ``@context``
and its times from here, so the wire format is spelled in one place. Mastodon does no
JSON-LD processing: what matters is that these strings are byte for byte what it writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, overload

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

#: The actor ``@context`` exactly as Mastodon 4.5 emits it (its ``schema`` IRI included).
ACTOR_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_CONTEXT,
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "discoverable": "toot:discoverable",
        "suspended": "toot:suspended",
        "memorial": "toot:memorial",
        "indexable": "toot:indexable",
        "attributionDomains": {"@id": "toot:attributionDomains", "@type": "@id"},
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
    },
]

#: The schema.org terms of a business's structured data (address, hours, contact), added to
#: the actor's ``@context`` when it has any. ``schema`` is Mastodon's ``http://schema.org#``,
#: as Mobilizon and Gancio also write it; Mastodon ignores these keys, JSON-LD peers read them.
BUSINESS_TERMS: dict[str, Any] = {
    "additionalType": {"@id": "schema:additionalType", "@type": "@id"},
    "PostalAddress": "schema:PostalAddress",
    "address": "schema:address",
    "streetAddress": "schema:streetAddress",
    "addressLocality": "schema:addressLocality",
    "addressRegion": "schema:addressRegion",
    "postalCode": "schema:postalCode",
    "addressCountry": "schema:addressCountry",
    "OpeningHoursSpecification": "schema:OpeningHoursSpecification",
    "openingHoursSpecification": "schema:openingHoursSpecification",
    "dayOfWeek": {"@id": "schema:dayOfWeek", "@type": "@id"},
    "opens": "schema:opens",
    "closes": "schema:closes",
    "validFrom": "schema:validFrom",
    "validThrough": "schema:validThrough",
    "telephone": "schema:telephone",
    "email": "schema:email",
    "priceRange": "schema:priceRange",
    "areaServed": "schema:areaServed",
}

#: The ``@context`` of a ``featuredTags`` collection (Mastodon's ``hashtag`` extension).
HASHTAG_CONTEXT: list[Any] = [AS_CONTEXT, {"Hashtag": "as:Hashtag"}]

#: The ``@context`` of Notes and of documents embedding them (Mastodon's context_helper terms).
NOTE_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "toot": "http://joinmastodon.org/ns#",
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        "votersCount": "toot:votersCount",
        "gts": "https://gotosocial.org/ns#",
        "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
        "canQuote": {"@id": "gts:canQuote", "@type": "@id"},
        "automaticApproval": {"@id": "gts:automaticApproval", "@type": "@id"},
        "manualApproval": {"@id": "gts:manualApproval", "@type": "@id"},
        "quote": {"@id": "https://w3id.org/fep/044f#quote", "@type": "@id"},
        "quoteUri": "http://fedibird.com/ns#quoteUri",
        "_misskey_quote": "https://misskey-hub.net/ns#_misskey_quote",
        "quoteAuthorization": {
            "@id": "https://w3id.org/fep/044f#quoteAuthorization",
            "@type": "@id",
        },
    },
]


@overload
def iso8601(ms: int) -> str: ...
@overload
def iso8601(ms: None) -> None: ...
@overload
def iso8601(ms: int | None) -> str | None: ...
def iso8601(ms: int | None) -> str | None:
    """Epoch milliseconds as ISO 8601 UTC with a ``Z``, to the second (as Mastodon writes
    ``2026-11-23T12:00:00Z``); ``None`` stays ``None`` (a time not set, in the owner API)."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
