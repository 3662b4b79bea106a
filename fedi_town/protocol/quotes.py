"""Quote posts (FEP-044f, as Mastodon 4.5 speaks it): who may quote, and the stamps we grant.

PURE: standard library only. A business's post says who may quote it in
``interactionPolicy.canQuote``; someone quoting it sends ``QuoteRequest{object: our post,
instrument: their post}``; we answer ``Accept{object: the request, result: stamp URL}``
and serve a ``QuoteAuthorization`` (the stamp) there, or ``Reject``. Revoking a quote
deletes the stamp and sends ``Delete{object: stamp URL}`` (Mastodon's
``DeleteQuoteAuthorizationSerializer``).

    policy      anyone     followers          ask                     nobody
    automatic   [Public]   [our followers]    [us]                    [us]
    manual      -          -                  [Public]                -

(``automaticApproval``/``manualApproval``; the author may always quote itself.) With
``ask``, a request is kept pending until the owner approves it (``Accept`` + stamp) or
denies it (``Reject``): Mastodon 4.5 reads ``manualApproval`` [Public] as "may quote,
pending approval" (``quote_policy_for_account`` answers ``:manual``).

Followers-only and direct posts are never quotable, whatever the policy (Mastodon
downgrades their policy the same way).
"""

from __future__ import annotations

import html
from typing import Any

from fedi_town.protocol.vocabulary import AS_CONTEXT, AS_PUBLIC

Document = dict[str, Any]  # the same alias as protocol.documents, which imports this module

POLICIES = ("anyone", "followers", "ask", "nobody")
#: The policy whose requests wait for the owner (manual approval).
ASK = "ask"
#: Visibilities whose posts may be quoted at all.
QUOTABLE_VISIBILITIES = frozenset({"public", "unlisted"})

QUOTE_REQUEST_TYPE = "QuoteRequest"
#: ``@context`` of a QuoteRequest we send or echo (Mastodon's ``quote_requests`` extension).
QUOTE_REQUEST_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {"QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest"},
]
#: ``@context`` of a stamp: FEP-044f's terms (Mastodon's ``quote_authorizations``).
QUOTE_AUTHORIZATION_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "QuoteAuthorization": "https://w3id.org/fep/044f#QuoteAuthorization",
        "gts": "https://gotosocial.org/ns#",
        "interactingObject": {"@id": "gts:interactingObject", "@type": "@id"},
        "interactionTarget": {"@id": "gts:interactionTarget", "@type": "@id"},
    },
]


def effective_policy(post_policy: str | None, business_policy: str, visibility: str) -> str:
    """The policy that applies to one post: its own, else the business's; ``nobody`` for a
    post that is neither public nor unlisted. An unknown value counts as ``nobody``."""
    if visibility not in QUOTABLE_VISIBILITIES:
        return "nobody"
    policy = post_policy or business_policy
    return policy if policy in POLICIES else "nobody"


def allows(policy: str, *, is_follower: bool) -> bool:
    """Whether ``policy`` (an effective one) lets someone quote; ``is_follower``: they follow
    the business (an accepted follow)."""
    return policy == "anyone" or (policy == "followers" and is_follower)


def interaction_policy(policy: str, *, actor: str, followers: str) -> Document:
    """A Note's ``interactionPolicy`` for an effective ``policy``, as Mastodon 4.5 writes it
    (``automaticApproval`` never empty: the author itself when nobody else); ``ask`` adds
    ``manualApproval`` [Public]: anyone may ask, the owner decides."""
    approved = {"anyone": AS_PUBLIC, "followers": followers}.get(policy, actor)
    can_quote: Document = {"automaticApproval": [approved]}
    if policy == ASK:
        can_quote["manualApproval"] = [AS_PUBLIC]
    return {"canQuote": can_quote}


def quote_authorization(*, id: str, actor: str, quote: str, target: str) -> Document:
    """The stamp: ``actor`` lets the post ``quote`` quote its post ``target``."""
    return {
        "@context": QUOTE_AUTHORIZATION_CONTEXT,
        "id": id,
        "type": "QuoteAuthorization",
        "attributedTo": actor,
        "interactingObject": quote,
        "interactionTarget": target,
    }


def accept_quote(*, id: str, actor: str, request: Any, to: str, stamp: str) -> Document:
    """Accept{QuoteRequest} with the stamp's URL as ``result`` (Mastodon reads it there)."""
    return {
        "@context": QUOTE_REQUEST_CONTEXT,
        "id": id,
        "type": "Accept",
        "actor": actor,
        "to": [to],
        "object": request,
        "result": stamp,
    }


def reject_quote(*, id: str, actor: str, request: Any, to: str) -> Document:
    """Reject{QuoteRequest}: the quote is not allowed (Mastodon then marks it rejected)."""
    return {
        "@context": QUOTE_REQUEST_CONTEXT,
        "id": id,
        "type": "Reject",
        "actor": actor,
        "to": [to],
        "object": request,
    }


def delete_stamp(*, actor: str, stamp: str) -> Document:
    """Delete of a stamp: the quote is no longer allowed (Mastodon's revocation)."""
    return {
        "@context": AS_CONTEXT,
        "id": f"{stamp}#delete",
        "type": "Delete",
        "actor": actor,
        "to": [AS_PUBLIC],
        "object": stamp,
    }


def quote_request(*, id: str, actor: str, quoted: str, quote: str) -> Document:
    """QuoteRequest{object: the post quoted, instrument: the quoting post}."""
    return {
        "@context": QUOTE_REQUEST_CONTEXT,
        "id": id,
        "type": "QuoteRequest",
        "actor": actor,
        "object": quoted,
        "instrument": quote,
    }


def fallback_html(quoted: str) -> str:
    """What a quoting post adds to its content for servers that do not show quotes
    (Mastodon's ``quote-inline`` paragraph, which Mastodon hides when it shows the quote)."""
    href = html.escape(quoted, quote=True)
    return f'<p class="quote-inline">RE: <a href="{href}">{html.escape(quoted)}</a></p>'


def quote_allowed(
    note: Any, *, actor: str, author_followers: str | None, following_author: bool
) -> bool:
    """Whether the post ``note`` lets ``actor`` quote it, by its ``canQuote`` (automatic or
    manual approval: a manual one is asked all the same): the public, ``actor`` itself, or
    the author's followers when ``following_author``. No policy: not quotable (as Mastodon
    4.5 treats posts without one)."""
    if not isinstance(note, dict):
        return False
    policy = note.get("interactionPolicy")
    can_quote = policy.get("canQuote") if isinstance(policy, dict) else None
    if not isinstance(can_quote, dict):
        return False
    approved: set[str] = set()
    for key in ("automaticApproval", "manualApproval"):
        value = can_quote.get(key)
        approved |= {
            v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)
        }
    if approved & {AS_PUBLIC, "as:Public", "Public", actor}:
        return True
    return following_author and author_followers is not None and author_followers in approved


#: Properties in which a post names the post it quotes, most specific first (FEP-044f
#: ``quote``, then the older spellings Mastodon also reads).
QUOTE_PROPERTIES = ("quote", "quoteUri", "_misskey_quote", "quoteUrl")


def quoted_by(note: Any) -> str | None:
    """The id of the post ``note`` quotes, or None."""
    if not isinstance(note, dict):
        return None
    for key in QUOTE_PROPERTIES:
        value = note.get(key)
        if isinstance(value, dict):
            value = value.get("id")
        if isinstance(value, str) and value:
            return value
    return None


def authorization_of(note: Any) -> str | None:
    """The id of the stamp (``quoteAuthorization``) a quoting ``note`` carries, or None."""
    if not isinstance(note, dict):
        return None
    value = note.get("quoteAuthorization")
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None
