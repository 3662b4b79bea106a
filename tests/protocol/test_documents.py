"""protocol.documents: pure builders, tested with no database and no web framework."""

from __future__ import annotations

import json

import pytest

from fedi_town.protocol import documents
from fedi_town.protocol.documents import Mention, NoteInput
from fedi_town.protocol.vocabulary import AS_PUBLIC

ACTOR = "https://town.example/users/bakery"
FOLLOWERS = f"{ACTOR}/followers"
BOB = Mention("https://social.example/users/bob", "@bob@social.example")


def _note(**changes) -> NoteInput:
    values = {
        "id": f"{ACTOR}/statuses/1",
        "attributed_to": ACTOR,
        "followers": FOLLOWERS,
        "url": "https://town.example/@bakery/1",
        "content_html": "<p>hi</p>",
        "published_ms": 1_795_132_800_000,
        "visibility": "public",
    }
    values.update(changes)
    return NoteInput(**values)


@pytest.mark.parametrize(
    ("visibility", "to", "cc"),
    [
        ("public", [AS_PUBLIC], [FOLLOWERS, BOB.href]),
        ("unlisted", [FOLLOWERS], [AS_PUBLIC, BOB.href]),
        ("followers", [FOLLOWERS], [BOB.href]),
        ("direct", [BOB.href], []),
        ("something-new", [FOLLOWERS], [BOB.href]),
    ],
)
def test_each_visibility_is_addressed_as_mastodon_does(visibility, to, cc):
    assert documents.addressing(visibility, FOLLOWERS, (BOB,)) == (to, cc)


def test_a_mentioned_actor_is_addressed_once():
    assert documents.addressing("public", FOLLOWERS, (BOB, BOB)) == (
        [AS_PUBLIC],
        [FOLLOWERS, BOB.href],
    )


def test_a_minimal_note_is_complete_and_json_serialisable():
    note = documents.note(_note())
    assert note["@context"][0] == "https://www.w3.org/ns/activitystreams"
    assert note["published"] == "2026-11-20T00:00:00Z"
    assert note["summary"] is None
    assert note["inReplyTo"] is None
    assert note["attachment"] == []
    assert note["tag"] == []
    assert "contentMap" not in note and "updated" not in note
    assert "replies" not in note and "likes" not in note
    json.dumps(note)


def _can_quote(note: NoteInput) -> list[str]:
    return documents.note(note)["interactionPolicy"]["canQuote"]["automaticApproval"]


def test_public_and_unlisted_notes_let_anyone_quote_by_default():
    assert _can_quote(_note()) == [AS_PUBLIC]
    assert _can_quote(_note(visibility="unlisted")) == [AS_PUBLIC]


def test_followers_only_and_direct_notes_let_only_their_author_quote():
    for visibility in ("followers", "direct"):
        assert _can_quote(_note(visibility=visibility, quote_policy="anyone")) == [ACTOR]


@pytest.mark.parametrize(
    ("policy", "approved"), [("anyone", AS_PUBLIC), ("followers", FOLLOWERS), ("nobody", ACTOR)]
)
def test_the_quote_policy_is_written_as_mastodon_writes_it(policy, approved):
    assert documents.note(_note(quote_policy=policy))["interactionPolicy"] == {
        "canQuote": {"automaticApproval": [approved]}
    }


def test_a_content_warning_makes_the_note_sensitive():
    assert documents.note(_note(summary="cw"))["sensitive"] is True


def test_non_image_attachments_are_documents_without_empty_fields():
    attachment = documents.Attachment("https://town.example/media/v.mp4", "video/mp4")
    (doc,) = documents.note(_note(attachments=(attachment,)))["attachment"]
    assert doc == {
        "type": "Document",
        "mediaType": "video/mp4",
        "url": "https://town.example/media/v.mp4",
        "name": None,
    }


def test_link_html_escapes_and_keeps_text_equal_to_href():
    html = documents.link_html('https://x.example/?a=1&b="2"')
    escaped = "https://x.example/?a=1&amp;b=&quot;2&quot;"
    assert html == (
        f'<a href="{escaped}" rel="me nofollow noopener noreferrer" target="_blank">{escaped}</a>'
    )


@pytest.mark.parametrize(
    ("phone", "html"),
    [
        ("+49 30 1234-56", '<a href="tel:+4930123456">+49 30 1234-56</a>'),
        ("call us", "call us"),
        ("<b>", "&lt;b&gt;"),
    ],
)
def test_phone_numbers_become_tel_links_when_they_have_digits(phone, html):
    assert documents.phone_html(phone) == html


def test_collection_pages_link_neighbours_under_the_collection_url():
    page = documents.ordered_collection_page(f"{ACTOR}/outbox", 2, ["x"], has_next=True)
    assert page["id"] == f"{ACTOR}/outbox?page=2"
    assert page["next"] == f"{ACTOR}/outbox?page=3"
    assert page["prev"] == f"{ACTOR}/outbox?page=1"
    assert page["partOf"] == f"{ACTOR}/outbox"


def test_a_business_in_schema_org_terms_becomes_a_place_and_hours_on_its_actor():
    # Given a bakery's schema.org terms as business.schema_org builds them ("type" as type key)
    local_business = {
        "type": "Bakery",
        "name": "Corner Bakery",
        "url": "https://town.example/@bakery",
        "telephone": "+44 117 496 0000",
        "address": {"type": "PostalAddress", "streetAddress": "1 High Street"},
        "geo": {"type": "GeoCoordinates", "latitude": 51.45, "longitude": -2.58},
        "openingHoursSpecification": [
            {
                "type": "OpeningHoursSpecification",
                "dayOfWeek": ["https://schema.org/Monday"],
                "opens": "07:00",
                "closes": "18:00",
            }
        ],
    }
    # When they are made actor terms
    terms = documents.business_terms(local_business)
    # Then the category is an additionalType, the address and point a Place, the rest as is
    assert terms["additionalType"] == "https://schema.org/Bakery"
    assert terms["location"] == {
        "type": "Place",
        "name": "Corner Bakery",
        "address": {"type": "PostalAddress", "streetAddress": "1 High Street"},
        "latitude": 51.45,
        "longitude": -2.58,
    }
    assert terms["openingHoursSpecification"][0]["opens"] == "07:00"
    assert terms["telephone"] == "+44 117 496 0000"
    assert "geo" not in terms and "url" not in terms


def _actor_input(**changes) -> documents.ActorInput:
    values = {
        "id": ACTOR,
        "username": "bakery",
        "name": "Corner Bakery",
        "summary_html": "<p>Bread</p>",
        "url": "https://town.example/@bakery",
        "inbox": f"{ACTOR}/inbox",
        "outbox": f"{ACTOR}/outbox",
        "followers": FOLLOWERS,
        "following": f"{ACTOR}/following",
        "featured": f"{ACTOR}/collections/featured",
        "featured_tags": f"{ACTOR}/collections/tags",
        "shared_inbox": "https://town.example/inbox",
        "key_id": f"{ACTOR}#main-key",
        "public_key_pem": "PEM",
        "published_ms": 1_795_132_800_000,
    }
    values.update(changes)
    return documents.ActorInput(**values)


def test_a_business_is_an_organization_and_the_directory_a_service():
    # A business shows as a normal account; the directory, which boosts by itself, gets
    # Mastodon's bot badge.
    assert documents.actor(_actor_input())["type"] == "Organization"
    assert documents.actor(_actor_input(type="Service"))["type"] == "Service"


def test_a_departing_actor_keeps_its_ids_and_key_and_drops_its_profile():
    # Given a business with a profile, an avatar and fields
    full = _actor_input(
        icon=documents.Image("https://town.example/media/a.webp", "image/webp"),
        fields=(("Menu", "https://bakery.example/menu"),),
        website="https://bakery.example/",
    )
    # When it is served while its Delete is being delivered
    departing = documents.departing_actor(full)
    # Then it says "suspended" with its key, and nothing else of the business
    assert departing["suspended"] is True
    assert departing["publicKey"] == {
        "id": f"{ACTOR}#main-key",
        "owner": ACTOR,
        "publicKeyPem": "PEM",
    }
    assert (departing["id"], departing["inbox"], departing["type"]) == (
        ACTOR,
        f"{ACTOR}/inbox",
        "Organization",
    )
    assert (departing["name"], departing["summary"], departing["attachment"]) == ("bakery", "", [])
    assert "icon" not in departing
    assert (departing["discoverable"], departing["indexable"]) == (False, False)


@pytest.mark.parametrize(
    ("website", "domain"),
    [
        ("https://www.bakery.example/", "bakery.example"),
        ("https://Shop.Bakery.Example:8443/menu", "shop.bakery.example"),
        ("http://bakery.example.", "bakery.example"),
        ("https://192.0.2.7/", None),
        ("https://[2001:db8::1]/", None),
        ("http://localhost:8080/", None),
        ("https://[bad/", None),
        (None, None),
    ],
)
def test_the_attribution_domain_is_the_websites_domain(website, domain):
    assert documents.attribution_domain(website) == domain


def test_an_actor_with_a_website_credits_its_domain_on_link_previews():
    actor = documents.actor(_actor_input(website="https://www.bakery.example/"))
    assert actor["attributionDomains"] == ["bakery.example"]
    assert "attributionDomains" not in documents.actor(_actor_input())


def test_a_quoting_note_names_the_quote_three_ways_with_a_fallback_and_its_stamp():
    quoted = "https://social.example/users/alice/statuses/9"
    note = documents.note(
        _note(quote=quoted, quote_authorization=f"{quoted}/stamps/1", language="en")
    )
    assert note["quote"] == note["quoteUri"] == note["_misskey_quote"] == quoted
    assert note["quoteAuthorization"] == f"{quoted}/stamps/1"
    assert note["content"].endswith(
        f'<p class="quote-inline">RE: <a href="{quoted}">{quoted}</a></p>'
    )
    assert note["contentMap"]["en"] == note["content"]
    assert note["@context"][1]["quote"]["@id"] == "https://w3id.org/fep/044f#quote"
    assert "quote" not in documents.note(_note())


def test_ask_is_written_as_manual_approval_for_anyone():
    # Mastodon 4.5's parser: automatic [the author] is "disabled", manual [Public] makes
    # quote_policy_for_account answer :manual (may quote, pending approval)
    assert documents.note(_note(quote_policy="ask"))["interactionPolicy"] == {
        "canQuote": {"automaticApproval": [ACTOR], "manualApproval": [AS_PUBLIC]}
    }
    # And a followers-only post is never quotable, ask or not
    private = documents.note(_note(quote_policy="ask", visibility="followers"))
    assert private["interactionPolicy"] == {"canQuote": {"automaticApproval": [ACTOR]}}
