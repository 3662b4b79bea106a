"""The error tree: one root, HTTP-facing errors carrying their status, title and detail."""

from __future__ import annotations

import pytest

from fedi_town import errors
from fedi_town.errors import (
    ConfigError,
    FediTownError,
    ProblemError,
    ProtocolError,
    RemoteError,
    ServiceUnavailable,
    SignatureError,
    TooManyRequests,
)

STATUSES = {
    "BadRequest": 400,
    "Unauthorized": 401,
    "Forbidden": 403,
    "NotFound": 404,
    "Conflict": 409,
    "Gone": 410,
    "PayloadTooLarge": 413,
    "UnsupportedMedia": 415,
    "Unprocessable": 422,
    "TooManyRequests": 429,
    "ServiceUnavailable": 503,
}


@pytest.mark.parametrize(("name", "status"), STATUSES.items())
def test_each_problem_error_carries_its_http_status_and_a_title(name: str, status: int):
    kind = getattr(errors, name)
    assert issubclass(kind, ProblemError)
    assert kind.status == status and kind.title


def test_every_error_raised_on_purpose_is_under_one_root():
    for kind in (ProblemError, ProtocolError, SignatureError, RemoteError, ConfigError):
        assert issubclass(kind, FediTownError)
    assert issubclass(SignatureError, ProtocolError)


def test_a_problem_without_a_detail_uses_its_title():
    # When a 404 is raised with nothing more to say
    error = errors.NotFound()
    # Then the detail and the message are the title
    assert error.detail == "Not Found" and str(error) == "Not Found"
    assert error.errors is None


def test_a_problem_keeps_its_detail_and_the_list_of_problems():
    error = errors.Unprocessable("2 problem(s)", errors=[{"pointer": "/a", "message": "x"}])
    assert error.detail == "2 problem(s)" and str(error) == "2 problem(s)"
    assert error.errors == [{"pointer": "/a", "message": "x"}]


def test_rate_limits_and_unavailability_say_when_to_come_back():
    assert TooManyRequests("slow down", retry_after=5).retry_after == 5
    assert ServiceUnavailable("disk full", retry_after=60).retry_after == 60
    assert ServiceUnavailable().retry_after is None
