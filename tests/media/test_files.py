"""Names of uploads: new, unguessable, with their suffix."""

from __future__ import annotations

from fedi_town.media.files import new_name


def test_each_name_is_new_and_128_random_bits_with_the_suffix():
    # When two names are made for the same kind of file
    first, second = new_name("webp"), new_name("webp")
    # Then they differ, and each is 32 hex digits and the suffix
    assert first != second
    for name in (first, second):
        stem, suffix = name.split(".")
        assert suffix == "webp" and len(stem) == 32 and int(stem, 16) >= 0
