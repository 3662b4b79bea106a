"""Username shapes: what a path may name before anything is looked up."""

from __future__ import annotations

import pytest

from fedi_town.protocol.usernames import is_username, username_problem


@pytest.mark.parametrize("name", ["bakery", "corner_bakery", "a.b-c", "A1", "x" * 30])
def test_names_of_the_username_shape_are_usernames(name: str) -> None:
    assert is_username(name)


@pytest.mark.parametrize(
    "name",
    ["", "a\x00b", "\ud800", "a b", "a/b", ".a", "a.", "caf\u00e9", "x" * 31, "a\r\nb"],
)
def test_anything_else_is_not_a_username_and_has_a_problem(name: str) -> None:
    assert not is_username(name)
    assert username_problem(name) is not None
