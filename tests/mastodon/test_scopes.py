"""Scopes as Mastodon spells them: parsing, and what a grant covers."""

from __future__ import annotations

import pytest

from fedi_town.mastodon import scopes


def test_no_scope_means_read():
    assert scopes.parse(None) == ["read"]
    assert scopes.parse("  ") == ["read"]


def test_scopes_keep_their_order_without_repeats_and_accept_plus_signs():
    assert scopes.parse("read write+read follow") == ["read", "write", "follow"]


def test_an_unknown_or_admin_scope_is_refused():
    assert scopes.parse("read admin:read") is None
    assert scopes.parse("write:everything") is None


@pytest.mark.parametrize(
    ("granted", "needed", "ok"),
    [
        (["write"], "write:statuses", True),
        (["write:statuses"], "write:statuses", True),
        (["write:statuses"], "write:media", False),
        (["read"], "write:statuses", False),
        (["read:statuses"], "read", False),
        (["follow"], "write:follows", True),
        (["follow"], "write:statuses", False),
        (["profile"], "read:accounts", False),
    ],
)
def test_a_top_scope_covers_its_granular_ones_and_no_more(granted, needed, ok):
    assert scopes.covers(granted, needed) is ok


def test_an_app_may_be_asked_only_what_it_registered():
    assert scopes.subset(["write:statuses", "read"], ["read", "write"])
    assert not scopes.subset(["write"], ["write:statuses"])


def test_every_scope_has_words_for_the_consent_page():
    assert scopes.describe("write") == scopes.WORDS["write"]
    assert scopes.describe("read:notifications") == "read notifications"
    assert scopes.describe("write:media") == "change media"
