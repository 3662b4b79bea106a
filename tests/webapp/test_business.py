"""The business page: each section's form reaches the admin API and comes back on the page;
a refusal puts the API's sentence next to the field it names (both backends)."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest
from PIL import Image

from fedi_town.store import businesses
from tests.conftest import admin_headers, create_business
from tests.webapp.kit import owner_of

pytestmark = pytest.mark.anyio

PAGE = "/app/bakery/business"


async def api_view(app_client, username: str = "bakery") -> dict:
    answer = await app_client.get(f"/api/v1/businesses/{username}", headers=admin_headers())
    assert answer.status_code == 200, answer.text
    return answer.json()


def png(size=(64, 64), colour=(200, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def error_next_to(html: str, field_id: str) -> str:
    """The sentence of ``<p class="field-error" id="{field_id}-error">``, or ""."""
    found = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">([^<]*)</p>', html)
    return found.group(1) if found else ""


def input_tag(html: str, field_id: str) -> str:
    found = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{re.escape(field_id)}"[^>]*>', html)
    assert found, f"no input #{field_id}"
    return found.group(0)


class Labels(HTMLParser):
    """Every form control of a page, and the ids that a <label for> names."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[tuple[str, str]] = []
        self.labelled: set[str] = set()
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.append(attributes["id"])
        if tag == "label" and attributes.get("for"):
            self.labelled.add(attributes["for"])
        if tag in {"input", "select", "textarea"}:
            if attributes.get("type") in {"hidden", "submit", "button"}:
                return
            self.controls.append((attributes.get("name") or "?", attributes.get("id") or ""))


def unlabelled(html: str) -> list[str]:
    parser = Labels()
    parser.feed(html)
    missing = [name for name, id_ in parser.controls if not id_ or id_ not in parser.labelled]
    repeated = sorted({i for i in parser.ids if parser.ids.count(i) > 1})
    return missing + [f"repeated id {i}" for i in repeated]


async def test_the_week_typed_in_is_what_the_api_keeps_and_the_page_shows_again(app_client):
    # Given an owner on the business page
    user = await owner_of(app_client, "bakery", timezone="Europe/Berlin")
    await user.get(PAGE)
    # When she types Monday with a lunch break, Saturday mornings and Sunday closed
    page = await user.submit(
        f"{PAGE}/hours",
        {
            "hours.mon.0.0": "07:00",
            "hours.mon.0.1": "12:30",
            "hours.mon.1.0": "14:00",
            "hours.mon.1.1": "18:00",
            "hours.sat.0.0": "8:00",  # as a phone keyboard without a time picker types it
            "hours.sat.0.1": "13:00:00",
            "hours.sun.closed": "1",
        },
        follow=True,
    )
    # Then the API keeps that week, the unnamed days closed
    hours = (await api_view(app_client))["hours"]
    assert hours["mon"] == [["07:00", "12:30"], ["14:00", "18:00"]]
    assert hours["sat"] == [["08:00", "13:00"]]
    assert hours["sun"] == [] and hours["tue"] == []
    # And the page says it was saved and shows the times in the inputs again
    assert "Opening hours saved." in page.text
    assert 'value="12:30"' in input_tag(page.text, "hours-mon-0-1")
    assert 'value="14:00"' in input_tag(page.text, "hours-mon-1-0")
    assert "checked" in input_tag(page.text, "hours-sun-closed")


async def test_an_overlapping_interval_is_refused_with_the_sentence_next_to_that_day(app_client):
    # Given a saved week and a name
    user = await owner_of(app_client, "bakery", hours={"tue": [["09:00", "17:00"]]})
    await user.get(PAGE)
    # When Monday's second row overlaps the first
    page = await user.submit(
        f"{PAGE}/hours",
        {
            "hours.mon.0.0": "07:00",
            "hours.mon.0.1": "12:00",
            "hours.mon.1.0": "11:00",
            "hours.mon.1.1": "18:00",
        },
    )
    # Then nothing is saved, and Monday says why, in words
    assert page.status_code == 422
    assert (await api_view(app_client))["hours"] == {"tue": [["09:00", "17:00"]]}
    assert error_next_to(page.text, "hours-mon") == "Overlaps Monday’s first opening times."
    assert 'aria-invalid="true"' in input_tag(page.text, "hours-mon-1-0")
    assert 'aria-invalid="true"' not in input_tag(page.text, "hours-mon-0-0")
    # And the form keeps what was typed; the other sections show what is saved
    assert 'value="11:00"' in input_tag(page.text, "hours-mon-1-0")
    assert 'value="Corner Bakery"' in input_tag(page.text, "display_name")


async def test_an_error_lands_on_the_row_it_was_typed_in_when_a_row_above_is_empty(app_client):
    # Given Monday's first row left empty and the second opening and closing at once
    user = await owner_of(app_client, "bakery")
    await user.get(PAGE)
    page = await user.submit(f"{PAGE}/hours", {"hours.mon.1.0": "11:00", "hours.mon.1.1": "11:00"})
    # Then the API's /hours/mon/0 is the form's second row
    assert page.status_code == 422
    assert error_next_to(page.text, "hours-mon") == "Opens and closes at the same time."
    assert 'aria-invalid="true"' in input_tag(page.text, "hours-mon-1-1")
    assert 'aria-invalid="true"' not in input_tag(page.text, "hours-mon-0-1")


async def test_a_time_only_half_typed_asks_for_the_other_half(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get(PAGE)
    page = await user.submit(f"{PAGE}/hours", {"hours.wed.0.0": "09:00"})
    assert page.status_code == 422
    assert error_next_to(page.text, "hours-wed") == "Fill this in."


async def test_an_empty_week_means_no_hours_given(app_client):
    user = await owner_of(app_client, "bakery", hours={"mon": [["07:00", "12:00"]]})
    await user.get(PAGE)
    await user.submit(f"{PAGE}/hours", {}, follow=True)
    view = await api_view(app_client)
    assert view["hours"] == {} and view["status"] is None


async def test_the_place_is_saved_and_linked_to_openstreetmap(app_client):
    # Given an owner
    user = await owner_of(app_client, "bakery")
    await user.get(PAGE)
    # When she gives the address and a map point (typed with a decimal comma)
    page = await user.submit(
        f"{PAGE}/place",
        {
            "place_kind": "shop",
            "location.street_address": "1 High Street",
            "location.postal_code": "BS1 4DJ",
            "location.locality": "Bristol",
            "location.country": "gb",
            "location.latitude": "51,4545",
            "location.longitude": "-2.5879",
        },
        follow=True,
    )
    # Then the API keeps it, and the page shows it with its map link
    view = await api_view(app_client)
    assert view["location"] == {
        "street_address": "1 High Street",
        "postal_code": "BS1 4DJ",
        "locality": "Bristol",
        "country": "GB",
        "latitude": 51.4545,
        "longitude": -2.5879,
    }
    assert view["service_area"] is None
    assert "Address saved." in page.text
    assert "1 High Street<br>Bristol<br>BS1 4DJ<br>GB" in page.text
    assert "https://www.openstreetmap.org/?mlat=51.4545&amp;mlon=-2.5879" in page.text


async def test_a_service_area_instead_of_a_shopfront_keeps_the_street_private(app_client):
    # Given a business with an address
    user = await owner_of(
        app_client,
        "bakery",
        location={"street_address": "1 High Street", "locality": "Bristol", "country": "GB"},
    )
    page = await user.get(PAGE)
    assert 'value="1 High Street"' in input_tag(page.text, "location-street_address")
    # When the owner says she goes to her customers
    page = await user.submit(
        f"{PAGE}/place",
        {
            "place_kind": "area",
            "service_area": "Bristol and 10 miles  around",
            "location.street_address": "1 High Street",
            "location.locality": "Bristol",
            "location.country": "GB",
        },
        follow=True,
    )
    # Then the API has the area, and neither this page's address nor the profile shows the street
    assert (await api_view(app_client))["service_area"] == "Bristol and 10 miles around"
    assert "checked" in input_tag(page.text, "place_kind-area")
    assert "Bristol<br>GB" in page.text and "1 High Street<br>" not in page.text
    profile = await app_client.get("/@bakery", headers={"Accept": "text/html"})
    assert "1 High Street" not in profile.text
    # And an area left empty is asked for, with nothing saved
    page = await user.submit(f"{PAGE}/place", {"place_kind": "area", "service_area": " "})
    assert page.status_code == 422
    assert error_next_to(page.text, "service_area").startswith("Say where you work")


async def test_a_country_that_is_not_a_code_is_refused_next_to_it(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get(PAGE)
    page = await user.submit(f"{PAGE}/place", {"place_kind": "shop", "location.country": "Germany"})
    assert page.status_code == 422
    assert error_next_to(page.text, "location-country").startswith("Two capital letters")


async def test_special_hours_for_a_date_are_added_shown_and_removed(app_client):
    # Given an owner with a week
    user = await owner_of(app_client, "bakery", hours={"mon": [["07:00", "18:00"]]})
    await user.get(PAGE)
    # When she closes on Christmas and opens short hours on New Year's Eve
    await user.submit(
        f"{PAGE}/special-hours",
        {
            "special.start": "2030-12-24",
            "special.end": "2030-12-26",
            "special.label": "Christmas",
            "special.kind": "closed",
        },
    )
    await user.get(PAGE)
    page = await user.submit(
        f"{PAGE}/special-hours",
        {
            "special.start": "2030-12-31",
            "special.kind": "open",
            "special.hours.0.0": "10:00",
            "special.hours.0.1": "14:00",
        },
        follow=True,
    )
    # Then the API has both, and the page lists them in words
    special = (await api_view(app_client))["special_hours"]
    assert [(s["start"], s.get("end"), s["hours"], s.get("label")) for s in special] == [
        ("2030-12-24", "2030-12-26", [], "Christmas"),
        ("2030-12-31", None, [["10:00", "14:00"]], None),
    ]
    assert "Tue 24 Dec 2030 to Thu 26 Dec 2030</strong>: Closed · Christmas" in page.text
    assert "Tue 31 Dec 2030</strong>: 10:00–14:00" in page.text
    # When the first is removed
    page = await user.submit(
        f"{PAGE}/special-hours/remove", {"index": "0", "start": "2030-12-24"}, follow=True
    )
    # Then only New Year's Eve is left
    assert "Special hours removed." in page.text
    special = (await api_view(app_client))["special_hours"]
    assert [s["start"] for s in special] == ["2030-12-31"]


async def test_special_hours_that_overlap_others_say_so_next_to_the_dates(app_client):
    user = await owner_of(
        app_client, "bakery", special_hours=[{"start": "2030-12-25", "hours": []}]
    )
    await user.get(PAGE)
    page = await user.submit(
        f"{PAGE}/special-hours",
        {"special.start": "2030-12-24", "special.end": "2030-12-26", "special.kind": "closed"},
    )
    assert page.status_code == 422
    assert error_next_to(page.text, "special-start") == "These dates overlap other special days."
    # And a day "open" with no times says what is missing, before asking the API
    page = await user.submit(
        f"{PAGE}/special-hours", {"special.start": "2030-12-28", "special.kind": "open"}
    )
    assert page.status_code == 422
    assert error_next_to(page.text, "special-hours-0").startswith("Give the opening times")
    assert len((await api_view(app_client))["special_hours"]) == 1


async def test_removing_special_hours_from_a_list_that_changed_removes_nothing(app_client):
    user = await owner_of(
        app_client, "bakery", special_hours=[{"start": "2030-12-25", "hours": []}]
    )
    await user.get(PAGE)
    page = await user.submit(
        f"{PAGE}/special-hours/remove", {"index": "0", "start": "2030-01-01"}, follow=True
    )
    assert "nothing was removed" in page.text
    assert len((await api_view(app_client))["special_hours"]) == 1


async def test_the_time_zone_is_picked_from_the_list_and_an_unknown_one_is_refused(app_client):
    # Given an owner
    user = await owner_of(app_client, "bakery")
    page = await user.get(PAGE)
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in page.text
    # When she picks Berlin
    page = await user.submit(f"{PAGE}/timezone", {"timezone": "Europe/Berlin"}, follow=True)
    # Then the API reads her times there, and the list shows it chosen
    assert (await api_view(app_client))["timezone"] == "Europe/Berlin"
    assert '<option value="Europe/Berlin" selected>' in page.text
    # When a zone the server does not know is posted
    page = await user.submit(f"{PAGE}/timezone", {"timezone": "Mars/Olympus_Mons"})
    # Then it is refused next to the list, and Berlin stays
    assert page.status_code == 422
    assert error_next_to(page.text, "timezone").startswith("We do not know this time zone")
    assert (await api_view(app_client))["timezone"] == "Europe/Berlin"
    # And "the town's own" clears it
    await user.submit(f"{PAGE}/timezone", {"timezone": ""})
    assert (await api_view(app_client))["timezone"] is None


async def test_a_notice_until_a_local_time_and_cleared_again(app_client):
    # Given a business in Berlin
    user = await owner_of(app_client, "bakery", timezone="Europe/Berlin")
    await user.get(PAGE)
    until = (datetime.now() + timedelta(days=3)).replace(hour=18, minute=0)
    # When she shows a notice until 18:00 on the shop's clock
    page = await user.submit(
        f"{PAGE}/notice",
        {
            "action": "save",
            "notice.text": "Closed for a family celebration",
            "notice.until": f"{until:%Y-%m-%dT%H:%M}",
        },
        follow=True,
    )
    # Then the API has it, ending at that wall time in Berlin
    notice = (await api_view(app_client))["notice"]
    assert notice["text"] == "Closed for a family celebration"
    assert notice["until"].endswith(("T17:00:00Z", "T16:00:00Z"))
    assert f'value="{until:%Y-%m-%dT%H:%M}"' in input_tag(page.text, "notice-until")
    # When she clears it
    page = await user.submit(f"{PAGE}/notice", {"action": "clear"}, follow=True)
    assert (await api_view(app_client))["notice"] is None
    # And a time in the past is refused next to it
    page = await user.submit(
        f"{PAGE}/notice",
        {"action": "save", "notice.text": "Back soon", "notice.until": "2020-01-01T10:00"},
    )
    assert page.status_code == 422
    assert error_next_to(page.text, "notice-until") == "This is in the past."


async def test_the_directory_listing_is_a_checkbox(app_client):
    user = await owner_of(app_client, "bakery")
    page = await user.get(PAGE)
    assert "checked" in input_tag(page.text, "in_directory")
    page = await user.submit(f"{PAGE}/directory", {}, follow=True)
    assert (await api_view(app_client))["in_directory"] is False
    assert "checked" not in input_tag(page.text, "in_directory")
    await user.submit(f"{PAGE}/directory", {"in_directory": "1"})
    assert (await api_view(app_client))["in_directory"] is True


async def test_who_may_quote_the_posts_is_chosen_on_the_business_page(app_client):
    user = await owner_of(app_client, "bakery")
    page = await user.get(PAGE)
    assert 'value="anyone" checked' in page.text
    page = await user.submit(f"{PAGE}/quotes", {"quote_policy": "followers"}, follow=True)
    assert (await api_view(app_client))["quote_policy"] == "followers"
    assert 'value="followers" checked' in page.text
    refused = await user.submit(f"{PAGE}/quotes", {"quote_policy": "everyone"})
    assert refused.status_code == 422
    assert (await api_view(app_client))["quote_policy"] == "followers"


async def test_the_profile_is_saved_with_a_category_and_a_tidy_web_address(app_client):
    user = await owner_of(app_client, "bakery")
    page = await user.get(PAGE)
    assert page.text.count("<option value=") >= 83 + 300  # categories and zones
    assert '<option value="CafeOrCoffeeShop">Café</option>' in page.text
    await user.submit(
        f"{PAGE}/profile",
        {
            "display_name": "Corner  Bakery & Café",
            "summary": "Sourdough since 1998.",
            "category": "Bakery",
            "website": "corner-bakery.example",
            "phone": "+44 117 496 0000",
            "email": "",
            "price_range": "€€",
        },
    )
    view = await api_view(app_client)
    assert view["display_name"] == "Corner Bakery & Café"
    assert view["summary"] == "Sourdough since 1998."
    assert view["category"] == "Bakery"
    assert view["website"] == "https://corner-bakery.example"
    assert (view["phone"], view["email"], view["price_range"]) == ("+44 117 496 0000", None, "€€")
    page = await user.get(PAGE)
    assert '<option value="Bakery" selected>Bakery</option>' in page.text


async def test_a_bad_email_is_refused_next_to_it_and_the_rest_of_the_profile_stays_typed(
    app_client,
):
    user = await owner_of(app_client, "bakery")
    await user.get(PAGE)
    page = await user.submit(
        f"{PAGE}/profile", {"display_name": "New name", "email": "not an address"}
    )
    assert page.status_code == 422
    assert error_next_to(page.text, "email") == "An email address looks like name@example.com."
    assert 'value="New name"' in input_tag(page.text, "display_name")
    assert (await api_view(app_client))["display_name"] == "Corner Bakery"


async def test_featured_hashtags_are_typed_in_one_box_and_refused_next_to_it(app_client):
    # Given an owner on the business page
    user = await owner_of(app_client, "bakery")
    await user.get(PAGE)
    # When she features hashtags, typed with "#" and commas
    page = await user.submit(
        f"{PAGE}/profile",
        {"display_name": "Corner Bakery", "featured_tags": "#sourdough, cakes  #Rye"},
        follow=True,
    )
    # Then the API has them and the box shows them back
    assert (await api_view(app_client))["featured_tags"] == ["sourdough", "cakes", "Rye"]
    assert 'value="#sourdough #cakes #Rye"' in input_tag(page.text, "featured_tags")
    # And a word that is no hashtag is refused next to the box
    page = await user.submit(
        f"{PAGE}/profile", {"display_name": "Corner Bakery", "featured_tags": "#bread #2026"}
    )
    assert page.status_code == 422
    assert "#2026" in error_next_to(page.text, "featured_tags")
    assert (await api_view(app_client))["featured_tags"] == ["sourdough", "cakes", "Rye"]


async def test_a_png_uploaded_as_the_profile_photo_becomes_the_avatar(app_client):
    # Given an owner on the business page
    user = await owner_of(app_client, "bakery")
    await user.get(PAGE)
    # When she uploads a PNG as her profile photo
    page = await user.submit(
        f"{PAGE}/profile",
        {"display_name": "Corner Bakery"},
        files={"avatar": ("logo.png", png(), "image/png")},
        follow=True,
    )
    # Then the API has an avatar, and the page shows it
    view = await api_view(app_client)
    assert view["avatar_url"] and view["avatar_media_id"]
    assert f'src="{view["avatar_url"]}"' in page.text
    # When she removes it again
    await user.submit(f"{PAGE}/profile", {"display_name": "Corner Bakery", "avatar.remove": "1"})
    assert (await api_view(app_client))["avatar_url"] is None


async def test_a_photo_uploaded_with_a_refused_profile_is_kept_for_the_next_try(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get(PAGE)
    page = await user.submit(
        f"{PAGE}/profile",
        {"display_name": "Corner Bakery", "email": "nope"},
        files={"header": ("shop.png", png((300, 100)), "image/png")},
    )
    assert page.status_code == 422
    kept = re.search(r'name="header.kept" value="(\d+)"', page.text)
    assert kept, "the uploaded photo's id is carried in the form"
    await user.submit(
        f"{PAGE}/profile",
        {"display_name": "Corner Bakery", "email": "shop@example.com", "header.kept": kept[1]},
    )
    view = await api_view(app_client)
    assert view["header_media_id"] == kept[1] and view["email"] == "shop@example.com"


async def test_a_file_that_is_not_a_photo_is_refused_next_to_its_input(app_client):
    user = await owner_of(app_client, "bakery")
    await user.get(PAGE)
    page = await user.submit(
        f"{PAGE}/profile",
        {"display_name": "Corner Bakery"},
        files={"avatar": ("notes.png", b"just some text", "image/png")},
    )
    assert page.status_code == 422
    assert "JPEG, PNG, WebP, GIF or HEIC" in error_next_to(page.text, "avatar")
    assert (await api_view(app_client))["avatar_url"] is None


async def test_another_business_page_is_not_found(app_client):
    # Given an owner of the bakery and a florist next door
    user = await owner_of(app_client, "bakery")
    await create_business(app_client, "florist", display_name="Flowers")
    await user.get(PAGE)
    token = user.csrf()
    # When she opens or posts to the florist's business page
    for answer in (
        await user.get("/app/florist/business"),
        await user.submit("/app/florist/business/hours", {"hours.mon.closed": "1"}, csrf=token),
        await user.get("/app/nobody/business"),
    ):
        # Then there is nothing there for her
        assert answer.status_code == 404
    assert (await api_view(app_client, "florist"))["hours"] == {}


async def test_every_input_of_the_business_page_has_a_label(app_client):
    user = await owner_of(
        app_client,
        "bakery",
        hours={"mon": [["07:00", "12:00"], ["13:00", "15:00"], ["16:00", "18:00"]]},
        special_hours=[{"start": "2030-12-25", "hours": []}],
    )
    page = await user.get(PAGE)
    assert page.status_code == 200
    assert unlabelled(page.text) == []
    assert page.text.count("<h1>") == 1
    # three rows on a day that has three, so none is lost when it is saved again
    assert 'value="16:00"' in input_tag(page.text, "hours-mon-2-0")


async def test_the_other_accounts_are_shown_one_per_line_and_a_bad_one_is_refused_next_to_it(
    app_client,
):
    # Given an owner whose business names an account elsewhere (set through the API, which
    # looks it up: tests/api/test_moves.py)
    user = await owner_of(app_client, "bakery")
    store = app_client.services.store
    business = await businesses.by_username(store, "bakery")
    old = "https://mastodon.example/users/bakery"
    await businesses.set_also_known_as(store, business.id, [old], now=0)
    # When she opens the business page
    page = await user.get(PAGE)
    # Then the account is in the "Moving here" form, labelled
    assert re.search(rf"<textarea[^>]*id=\"also_known_as\"[^>]*>\s*{re.escape(old)}", page.text)
    assert unlabelled(page.text) == []
    # When she writes something that is not an account
    refused = await user.submit(f"{PAGE}/aliases", {"also_known_as": "my old shop"})
    # Then the page says so next to the field, and nothing changed
    assert refused.status_code == 422
    assert error_next_to(refused.text, "also_known_as")
    assert (await api_view(app_client))["also_known_as"] == [old]
