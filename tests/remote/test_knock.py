"""Which signature scheme each host answered to, remembered for the next request."""

from __future__ import annotations

import pytest

from fedi_town.remote.knock import SchemeMemory, other_scheme


def test_scheme_memory_forgets_the_least_recently_used_host() -> None:
    memory = SchemeMemory(max_hosts=2)
    memory.remember("a.test", "rfc9421")
    memory.remember("b.test", "rfc9421")
    memory.scheme_for("a.test")  # a is now the most recently used
    memory.remember("c.test", "rfc9421")

    assert len(memory) == 2
    assert memory.scheme_for("a.test") == "rfc9421"
    assert memory.scheme_for("b.test") == "cavage"  # forgotten: back to the default


def test_a_host_never_heard_of_starts_with_draft_cavage() -> None:
    # Given an empty memory
    memory = SchemeMemory()
    # When asked about a host
    scheme = memory.scheme_for("new.test")
    # Then the default is what released Mastodon verifies, and nothing was remembered
    assert scheme == "cavage"
    assert len(memory) == 0


def test_the_other_scheme_of_each_scheme_is_the_one_tried_after_a_refusal() -> None:
    assert other_scheme("cavage") == "rfc9421"
    assert other_scheme("rfc9421") == "cavage"


def test_a_memory_that_could_hold_no_host_is_refused() -> None:
    with pytest.raises(ValueError, match="max_hosts"):
        SchemeMemory(max_hosts=0)
