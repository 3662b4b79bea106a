"""Forms as the API's JSON, API errors back at their inputs, and the API's words made plain
(no database: the conversions are pure)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from fedi_town.webapp import business_forms as forms


def test_a_week_skips_empty_rows_and_remembers_where_each_interval_was_typed():
    converted = forms.week_body(
        {
            "hours.mon.1.0": "7.30",
            "hours.mon.1.1": "12:00:00",
            "hours.tue.closed": "1",
        }
    )
    assert converted.body["hours"]["mon"] == [["07:30", "12:00"]]
    assert converted.body["hours"]["tue"] == [] and converted.body["hours"]["sun"] == []
    assert converted.problems == {}
    # the API's first interval of Monday is the form's second row
    assert converted.form_name("hours.mon.0") == "hours.mon.1"
    assert converted.form_name("hours.mon.0.1") == "hours.mon.1.1"
    assert converted.form_name("timezone") == "timezone"


def test_a_week_with_nothing_typed_is_no_hours_given():
    assert forms.week_body({}).body == {"hours": {}}


def test_a_day_both_closed_and_with_times_asks_which_was_meant():
    converted = forms.week_body(
        {"hours.tue.closed": "1", "hours.tue.0.0": "09:00", "hours.tue.0.1": "10:00"}
    )
    assert converted.problems == {"hours.tue": "Untick “Closed”, or clear the times."}
    special = forms.special_entry(
        {"special.start": "2030-12-24", "special.kind": "closed", "special.hours.0.0": "09:00"}
    )
    assert special.problems == {
        "special.hours.0": "Choose “Open at these times”, or clear the times."
    }


def test_new_special_hours_go_after_the_others_and_their_errors_come_back_to_the_form():
    existing = [{"start": "2030-12-25", "hours": []}]
    converted = forms.special_body(
        {
            "special.start": "2030-12-31",
            "special.kind": "open",
            "special.hours.1.0": "10:00",
            "special.hours.1.1": "14:00",
        },
        existing,
    )
    assert converted.body["special_hours"] == [
        {"start": "2030-12-25", "hours": []},
        {"start": "2030-12-31", "end": None, "hours": [["10:00", "14:00"]], "label": None},
    ]
    assert converted.form_name("special_hours.1.start") == "special.start"
    assert converted.form_name("special_hours.1.hours.0.1") == "special.hours.1.1"
    assert converted.form_name("special_hours.0") == "special.start"


def test_a_notice_ends_at_the_wall_time_of_the_shops_zone():
    body = forms.notice_body(
        {"notice.text": " Back  at 2 ", "notice.until": "2030-07-01T14:00"},
        ZoneInfo("Europe/Berlin"),
    ).body
    assert body == {"notice": {"text": "Back at 2", "until": "2030-07-01T14:00:00+02:00"}}
    assert forms.notice_body({"action": "clear"}, ZoneInfo("UTC")).body == {"notice": None}


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("example.com", "https://example.com"),
        ("http://a.example", "http://a.example"),
        ("", None),
        ("not a site", "not a site"),
    ],
)
def test_a_web_address_without_its_scheme_gets_https(typed, sent):
    assert forms.web_address(typed) == sent


@pytest.mark.parametrize(
    ("typed", "sent"),
    [("3,50", "3.50"), ("€3.50", "3.50"), ("12", "12"), ("", None), ("cheap", "cheap")],
)
def test_a_price_is_tidied_but_never_guessed(typed, sent):
    assert forms.price(typed) == sent


def test_coordinates_take_a_decimal_comma_and_leave_words_for_the_api_to_refuse():
    assert forms.number("52,52") == 52.52
    assert forms.number("") is None
    assert forms.number("north") == "north"


@pytest.mark.parametrize(
    ("name", "message", "words"),
    [
        (
            "hours.mon.0.1",
            "'' does not match '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'",
            "Fill this in.",
        ),
        (
            "hours.mon.0.0",
            "'7' does not match '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'",
            "A time of day, like 07:30.",
        ),
        ("hours.mon.1", "overlaps hours/mon/0", "Overlaps Monday’s first opening times."),
        (
            "hours.mon.0",
            "overlaps the end of hours/sun/0, which passes midnight",
            "Overlaps Sunday’s first opening times, which go past midnight.",
        ),
        (
            "website",
            "'example' does not match '^https?://[^\\s]+$'",
            "Give the whole web address, like https://example.com.",
        ),
        ("summary", "'xxxx' is too long", "This is too long."),
        ("location.latitude", "'abc' is not of type 'number', 'null'", "A number, like 52.5200."),
        ("category", "'Nope' is not one of ['Bakery']", "Pick one from the list."),
        ("end", "end is not after start", "The end has to come after the start."),
        (
            "timezone",
            "unknown time zone; use an IANA name such as Europe/Berlin",
            "We do not know this time zone. Pick one from the list.",
        ),
        ("x", "something new the API says", "Something new the API says."),
    ],
)
def test_the_apis_messages_read_as_plain_sentences(name, message, words):
    assert forms.plain(name, message) == words


def test_the_values_of_a_saved_business_fill_the_inputs():
    values = forms.business_values(
        {
            "display_name": "Corner Bakery",
            "hours": {"mon": [["22:00", "24:00"]], "tue": []},
            "service_area": "Bristol",
            "location": {"locality": "Bristol", "latitude": 51.45},
            "notice": {"text": "Closed", "until": "2030-07-01T12:00:00Z"},
            "in_directory": False,
        },
        ZoneInfo("Europe/Berlin"),
    )
    assert values["hours.mon.0.1"] == "00:00"  # a time input cannot show 24:00
    assert values["hours.tue.closed"] == "1" and values["hours.mon.closed"] == ""
    assert values["place_kind"] == "area" and values["location.latitude"] == "51.45"
    assert values["notice.until"] == "2030-07-01T14:00"
    assert values["in_directory"] == ""


def test_the_choices_cover_every_category_and_the_usual_zones():
    assert len(forms.category_choices()) == 83
    zones = dict(forms.zone_groups())
    assert "Europe/Berlin" in zones["Europe"] and "America/New_York" in zones["America"]
    assert all(not name.startswith(("US/", "Etc/")) for names in zones.values() for name in names)


def test_featured_hashtags_are_split_on_spaces_and_commas_and_errors_land_on_the_box():
    converted = forms.profile_body({"featured_tags": " #bread,cakes ## #Rye "})
    assert converted.body["featured_tags"] == ["#bread", "cakes", "#Rye"]
    assert converted.form_name("featured_tags.2") == "featured_tags"
    assert forms.profile_body({}).body["featured_tags"] == []
