"""read.high_street: the front page's search, category filter and grouping, on plain values."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fedi_town.read import high_street
from fedi_town.read.high_street import OTHER, Query
from fedi_town.store.businesses import Business


def shop(username: str, name: str = "", summary: str = "", category: str | None = None) -> Business:
    return Business(
        id=hash(username) & 0xFFFF,
        username=username,
        display_name=name or username.title(),
        summary=summary,
        website=None,
        phone=None,
        address=None,
        fields=[],
        avatar_media_id=None,
        header_media_id=None,
        manually_approves_followers=False,
        discoverable=True,
        indexable=True,
        public_key_pem="",
        sealed_private_key="",
        created_at=0,
        updated_at=0,
        deleted_at=None,
        category=category,
    )


SHOPS = [
    shop("bakery", "Corner Bakery", "Sourdough and **rye**", "Bakery"),
    shop("cafe", "Café Central", "Coffee & cake", "CafeOrCoffeeShop"),
    shop("plumber", "Pipes", "Leaks fixed", "Plumber"),
    shop("misc", "Odds and Ends", "A bit of everything"),
]


def handle(b: Business) -> str:
    return f"@{b.username}@town.example"


def found(**params: str) -> list[str]:
    query = Query.from_params(params)
    return [
        b.username for b in high_street.narrow(SHOPS, high_street.filters(query, handle, 0, "UTC"))
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["bakery", "cafe", "plumber", "misc"]),
        ({"q": "BREAD"}, []),
        ({"q": "rye"}, ["bakery"]),  # the bio, Markdown and all
        ({"q": "café"}, ["cafe"]),  # the name, case-insensitively
        ({"q": "CAFÉ central"}, ["cafe"]),  # every word must match
        ({"q": "@plumber@town"}, ["plumber"]),  # the handle
        ({"q": "coffeeshop"}, ["cafe"]),  # the category
        ({"q": "   "}, ["bakery", "cafe", "plumber", "misc"]),
        ({"category": "Bakery"}, ["bakery"]),
        ({"category": "bakery"}, ["bakery"]),
        ({"category": OTHER}, ["misc"]),
        ({"category": "Florist"}, []),
        ({"q": "cake", "category": "Bakery"}, []),
    ],
)
def test_search_and_category_narrow_the_list(params, expected):
    assert found(**params) == expected


def test_a_long_query_is_cut_and_its_spaces_collapsed():
    query = Query.from_params({"q": "  fresh \t bread " + "x" * 500, "category": ""})
    assert query.text.startswith("fresh bread x") and len(query.text) == high_street.MAX_QUERY
    assert query.category is None and query.narrowed
    assert not Query.from_params({}).narrowed


def test_groups_are_sorted_by_label_with_other_last():
    items = [(b.category, b.username) for b in SHOPS] + [(None, "junk"), ("Bakery", "second")]
    groups = high_street.grouped(items)
    assert [(g.label, g.value, g.items) for g in groups] == [
        ("Bakery", "Bakery", ["bakery", "second"]),
        ("Café", "CafeOrCoffeeShop", ["cafe"]),
        ("Plumber", "Plumber", ["plumber"]),
        (OTHER, OTHER, ["misc", "junk"]),
    ]


def test_the_categories_to_choose_from_are_those_the_members_name():
    more = [*SHOPS, replace(SHOPS[0], username="bakery2")]
    assert [(c.label, c.value) for c in high_street.categories(more)] == [
        ("Bakery", "Bakery"),
        ("Café", "CafeOrCoffeeShop"),
        ("Plumber", "Plumber"),
        (OTHER, OTHER),
    ]


def test_categories_are_headed_by_their_labels_for_people():
    assert high_street.category_label("CafeOrCoffeeShop") == "Café"
    assert high_street.category_label("NoLongerKnown") == "NoLongerKnown"
    assert high_street.category_label(None) == "Other"


def test_open_now_is_asked_with_open_1_and_narrows_the_query():
    assert high_street.Query.from_params({"open": "1"}).open_now
    assert high_street.Query.from_params({"open": "1"}).narrowed
    assert not high_street.Query.from_params({"open": "no"}).open_now
