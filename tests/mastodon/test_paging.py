"""Mastodon's paging parameters and Link header."""

from __future__ import annotations

import pytest

from fedi_town.errors import BadRequest
from fedi_town.mastodon.paging import link, page_of


def test_a_page_names_older_and_newer_pages_by_its_last_and_first_ids():
    headers = link("https://t.example/", "/api/v1/blocks", [30, 20], 2, [("local", "true")])
    assert headers["Link"] == (
        '<https://t.example/api/v1/blocks?max_id=20&limit=2&local=true>; rel="next", '
        '<https://t.example/api/v1/blocks?min_id=30&limit=2&local=true>; rel="prev"'
    )
    assert link("https://t.example", "/x", [], 20) == {}


def test_a_list_paged_only_backwards_names_only_the_older_page():
    headers = link("https://t.example", "/api/v1/mutes", [30, 20], 2, newer=False)
    assert headers["Link"] == '<https://t.example/api/v1/mutes?max_id=20&limit=2>; rel="next"'


def test_paging_parameters_are_numbers_and_the_limit_is_capped():
    page = page_of({"limit": "500", "max_id": "9", "min_id": "3"}, default=20, maximum=40)
    assert (page.limit, page.max_id, page.since_id, page.min_id) == (40, 9, None, 3)
    with pytest.raises(BadRequest):
        page_of({"max_id": "nine"}, default=20, maximum=40)
