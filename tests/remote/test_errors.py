"""The errors of the outbound HTTP layer: one tree under RemoteError, messages naming the URL."""

from __future__ import annotations

import pytest

from fedi_town.errors import RemoteError
from fedi_town.remote.errors import (
    BadContentType,
    BadDocument,
    BadResponse,
    FetchFailed,
    ForbiddenAddress,
    IdMismatch,
    RemoteGone,
    RemoteNotFound,
    RemoteUnreachable,
    ResponseTooLarge,
    TooManyRedirects,
)

URL = "https://remote.test/users/jo"


@pytest.mark.parametrize(
    ("error", "parents"),
    [
        (ForbiddenAddress("no"), ()),
        (RemoteUnreachable(URL, "timeout"), ()),
        (TooManyRedirects(URL, 3), ()),
        (RemoteNotFound(URL, 404), (FetchFailed,)),
        (RemoteGone(URL, 410), (FetchFailed,)),
        (ResponseTooLarge(URL, "big"), (BadResponse,)),
        (BadContentType(URL, "text/html"), (BadResponse,)),
        (BadDocument(URL, "not JSON"), (BadResponse,)),
        (IdMismatch(URL, "other id"), (BadResponse,)),
    ],
)
def test_every_remote_error_is_a_remote_error_under_its_branch(
    error: RemoteError, parents: tuple[type[RemoteError], ...]
) -> None:
    # Then one `except RemoteError` catches every failure of a remote call, and each
    # sits under the branch the module docstring draws
    assert isinstance(error, RemoteError)
    assert all(isinstance(error, parent) for parent in parents)


def test_a_failed_fetch_keeps_its_status_and_names_the_url() -> None:
    error = RemoteGone(URL, 410)
    assert (error.url, error.status) == (URL, 410)
    assert str(error) == f"{URL}: HTTP 410"


def test_an_unreachable_remote_says_why_for_the_retry_policy() -> None:
    error = RemoteUnreachable(URL, "connect")
    assert (error.url, error.reason) == (URL, "connect")
    assert str(error) == f"{URL}: no answer (connect)"


def test_too_many_redirects_names_the_first_url_and_the_limit() -> None:
    error = TooManyRedirects(URL, 3)
    assert error.url == URL
    assert str(error) == f"{URL}: more than 3 redirects"


def test_a_refused_body_names_the_url_and_the_reason() -> None:
    error = BadDocument(URL, "body is not valid gzip")
    assert error.url == URL
    assert str(error) == f"{URL}: body is not valid gzip"
