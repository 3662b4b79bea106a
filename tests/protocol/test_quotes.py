"""protocol.quotes: FEP-044f policies and documents, pure."""

from __future__ import annotations

import json

import pytest

from fedi_town.protocol import quotes
from fedi_town.protocol.vocabulary import AS_PUBLIC

ACTOR = "https://town.example/users/bakery"
POST = f"{ACTOR}/statuses/1"
STAMP = f"{POST}/quotes/7"
THEIRS = "https://social.example/users/alice/statuses/9"


@pytest.mark.parametrize(
    ("post", "business", "visibility", "expected"),
    [
        (None, "anyone", "public", "anyone"),
        (None, "followers", "unlisted", "followers"),
        ("nobody", "anyone", "public", "nobody"),
        ("anyone", "nobody", "public", "anyone"),
        ("anyone", "anyone", "followers", "nobody"),
        ("anyone", "anyone", "direct", "nobody"),
        (None, "something-new", "public", "nobody"),
        (None, "ask", "public", "ask"),
        ("ask", "anyone", "unlisted", "ask"),
        ("ask", "anyone", "followers", "nobody"),
    ],
)
def test_the_post_setting_overrides_the_business_and_private_posts_are_never_quotable(
    post, business, visibility, expected
):
    assert quotes.effective_policy(post, business, visibility) == expected


@pytest.mark.parametrize(
    ("policy", "follower", "allowed"),
    [
        ("anyone", False, True),
        ("followers", True, True),
        ("followers", False, False),
        ("nobody", True, False),
        # "ask" allows nobody at once: each request waits for the owner
        ("ask", True, False),
    ],
)
def test_who_a_policy_allows(policy, follower, allowed):
    assert quotes.allows(policy, is_follower=follower) is allowed


def test_the_stamp_names_who_lets_what_quote_what():
    stamp = quotes.quote_authorization(id=STAMP, actor=ACTOR, quote=THEIRS, target=POST)
    assert stamp["type"] == "QuoteAuthorization"
    assert (stamp["attributedTo"], stamp["interactingObject"], stamp["interactionTarget"]) == (
        ACTOR,
        THEIRS,
        POST,
    )
    terms = stamp["@context"][1]
    assert terms["QuoteAuthorization"] == "https://w3id.org/fep/044f#QuoteAuthorization"
    assert terms["interactingObject"]["@id"] == "gts:interactingObject"
    json.dumps(stamp)


def test_accept_carries_the_request_and_the_stamp_and_reject_only_the_request():
    request = {"id": "https://social.example/qr/1", "type": "QuoteRequest"}
    accept = quotes.accept_quote(id="a", actor=ACTOR, request=request, to="x", stamp=STAMP)
    reject = quotes.reject_quote(id="r", actor=ACTOR, request=request, to="x")
    assert (accept["type"], accept["object"], accept["result"]) == ("Accept", request, STAMP)
    assert reject["type"] == "Reject" and "result" not in reject


def test_a_revocation_deletes_the_stamp_by_its_url():
    delete = quotes.delete_stamp(actor=ACTOR, stamp=STAMP)
    assert delete == {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{STAMP}#delete",
        "type": "Delete",
        "actor": ACTOR,
        "to": [AS_PUBLIC],
        "object": STAMP,
    }


@pytest.mark.parametrize(
    "note",
    [
        {"quote": POST},
        {"quoteUri": POST},
        {"_misskey_quote": POST},
        {"quoteUrl": POST},
        {"quote": {"id": POST, "type": "Note"}},
    ],
)
def test_the_quoted_post_is_read_from_each_spelling(note):
    assert quotes.quoted_by(note) == POST


@pytest.mark.parametrize("note", [None, "text", {}, {"quote": 3}, {"quote": ""}])
def test_a_note_that_quotes_nothing_usable_quotes_nothing(note):
    assert quotes.quoted_by(note) is None


def test_a_quote_request_names_both_posts():
    request = quotes.quote_request(id="q", actor=ACTOR, quoted=THEIRS, quote=POST)
    assert (request["type"], request["object"], request["instrument"]) == (
        "QuoteRequest",
        THEIRS,
        POST,
    )


@pytest.mark.parametrize(
    ("approved", "following", "allowed"),
    [
        ({"automaticApproval": [AS_PUBLIC]}, False, True),
        ({"automaticApproval": "as:Public"}, False, True),
        ({"manualApproval": [AS_PUBLIC]}, False, True),
        ({"automaticApproval": [ACTOR]}, False, True),
        ({"automaticApproval": ["https://social.example/users/alice/followers"]}, True, True),
        ({"automaticApproval": ["https://social.example/users/alice/followers"]}, False, False),
        ({"automaticApproval": ["https://social.example/users/alice"]}, True, False),
        ({}, False, False),
    ],
)
def test_whether_a_post_elsewhere_lets_the_business_quote_it(approved, following, allowed):
    note = {"id": THEIRS, "interactionPolicy": {"canQuote": approved}}
    assert (
        quotes.quote_allowed(
            note,
            actor=ACTOR,
            author_followers="https://social.example/users/alice/followers",
            following_author=following,
        )
        is allowed
    )


@pytest.mark.parametrize("note", [None, {}, {"interactionPolicy": "x"}, {"interactionPolicy": {}}])
def test_a_post_without_a_quote_policy_is_not_quotable(note):
    assert not quotes.quote_allowed(
        note, actor=ACTOR, author_followers=None, following_author=False
    )


def test_the_fallback_links_the_quoted_post_escaped():
    assert quotes.fallback_html('https://x.example/a?b=1&c="2"') == (
        '<p class="quote-inline">RE: <a href="https://x.example/a?b=1&amp;c=&quot;2&quot;">'
        "https://x.example/a?b=1&amp;c=&quot;2&quot;</a></p>"
    )


@pytest.mark.parametrize(
    ("note", "found"),
    [
        ({"quoteAuthorization": "https://a.example/stamps/1"}, "https://a.example/stamps/1"),
        (
            {"quoteAuthorization": {"id": "https://a.example/stamps/1"}},
            "https://a.example/stamps/1",
        ),
        ({"quoteAuthorization": 3}, None),
        ({}, None),
        ("text", None),
    ],
)
def test_the_stamp_a_quoting_note_carries(note, found):
    assert quotes.authorization_of(note) == found
