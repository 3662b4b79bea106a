"""The API's query parameters and JSON shapes: paging, notification type filters."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from fedi_town.api import views
from fedi_town.errors import BadRequest


def request(query: str) -> Request:
    return Request({"type": "http", "method": "GET", "query_string": query.encode(), "headers": []})


def test_paging_defaults_to_twenty_and_no_max_id():
    # Given a request without paging parameters
    # When its paging is read
    # Then it asks for the default page from the newest
    assert views.page_params(request("")) == (views.DEFAULT_LIMIT, None)


def test_paging_reads_the_limit_and_the_exclusive_max_id():
    # Given a request for 80 items older than id 12345
    # When its paging is read
    # Then both are read as numbers
    assert views.page_params(request("limit=80&max_id=12345")) == (80, 12345)


@pytest.mark.parametrize("query", ["limit=0", "limit=81", "limit=-1", "max_id=abc"])
def test_paging_out_of_range_is_a_bad_request(query):
    # Given a request with a bad paging parameter
    # When its paging is read
    # Then it is refused rather than clamped
    with pytest.raises(BadRequest):
        views.page_params(request(query))


def test_type_filters_read_commas_and_repeats_once_each_in_order():
    # Given types as a comma list, repeated, and in the types[] spelling
    query = "types=follow,like&types=like&types%5B%5D=boost"
    # When the filter is read
    # Then each type appears once, in the order first asked for
    assert views.type_filter(request(query)) == ["follow", "like", "boost"]


def test_an_unknown_type_filter_is_a_bad_request_naming_it():
    # Given a request filtering by a type that does not exist
    # When the filter is read
    # Then the error names the type
    with pytest.raises(BadRequest, match="'poke'"):
        views.type_filter(request("types=follow,poke"))


def test_a_next_page_is_offered_only_after_a_full_page():
    # Given pages of items
    items = [{"id": "3"}, {"id": "2"}]
    # When the next max_id is asked for
    # Then a full page points past its last item, a short or empty one ends the paging
    assert views.next_max_id(items, 2) == "2"
    assert views.next_max_id(items, 3) is None
    assert views.next_max_id([], 0) is None
