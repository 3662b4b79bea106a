"""Post text as Mastodon renders it: Markdown, hashtags and mentions linked, nothing forged."""

from __future__ import annotations

import pytest

from fedi_town.text.compose import (
    MentionRef,
    ResolvedMention,
    find_mentions,
    is_plausible_host,
    render_post,
)

ALICE = ResolvedMention(
    href="https://m.example/users/alice",
    url="https://m.example/@alice",
    name="@alice@m.example",
    username="alice",
)


def tag_url(tag: str) -> str:
    return f"https://town.example/@bakery/tagged/{tag.lower()}"


def test_a_hashtag_becomes_a_mastodon_hashtag_link():
    rendered = render_post("Fresh rye #Bread", mentions={}, tag_url=tag_url)
    assert rendered.html == (
        '<p>Fresh rye <a href="https://town.example/@bakery/tagged/bread" '
        'class="mention hashtag" rel="tag">#<span>Bread</span></a></p>'
    )
    assert rendered.hashtags == ["Bread"]


def test_a_resolved_mention_becomes_an_h_card_link_to_the_profile():
    rendered = render_post(
        "Thanks @alice@m.example!", mentions={"alice@m.example": ALICE}, tag_url=tag_url
    )
    assert rendered.html == (
        '<p>Thanks <span class="h-card"><a href="https://m.example/@alice" '
        'class="u-url mention">@<span>alice</span></a></span>!</p>'
    )
    assert rendered.mention_keys == ["alice@m.example"]


def test_an_unresolved_mention_stays_plain_text():
    rendered = render_post("Hi @nobody@nowhere.example", mentions={}, tag_url=tag_url)
    assert rendered.html == "<p>Hi @nobody@nowhere.example</p>"
    assert rendered.mention_keys == []


def test_code_links_urls_and_emails_keep_their_hash_and_at_signs():
    source = "`#code` see https://x.example/#frag, [a #b](https://e.example) mail a@b.example #1"
    rendered = render_post(source, mentions={}, tag_url=tag_url)
    assert "hashtag" not in rendered.html
    assert rendered.hashtags == []
    assert find_mentions(source) == []


def test_raw_html_is_shown_as_text_never_run():
    rendered = render_post("<script>alert(1)</script> **hi**", mentions={}, tag_url=tag_url)
    assert rendered.html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; <strong>hi</strong></p>"


def test_mentions_are_found_once_each_with_ports_and_without_hosts():
    found = find_mentions("@Alice@m.example @alice@M.example @cafe @bob@127.0.0.1:8080.")
    assert found == [
        MentionRef("Alice", "m.example"),
        MentionRef("cafe", None),
        MentionRef("bob", "127.0.0.1:8080"),
    ]


def test_a_mention_names_its_handle_as_typed_and_a_bare_one_gets_our_domain():
    assert MentionRef("Alice", "M.example").handle("town.example") == "@Alice@M.example"
    assert MentionRef("cafe", None).handle("town.example") == "@cafe@town.example"


@pytest.mark.parametrize(
    ("host", "plausible"),
    [
        ("m.example", True),
        ("localhost", True),
        ("127.0.0.1:8080", True),
        ("m.example:65535", True),
        ("m.example:0", False),
        ("m.example:65536", False),
        ("m.example:99999", False),
        ("a" * 63 + ".example", True),
        ("a" * 64 + ".example", False),
        (".".join(["a" * 60] * 4) + ".ab", True),  # 246 characters
        (".".join(["a" * 62] * 4) + ".ab", False),  # 254 characters
    ],
)
def test_a_mention_host_is_plausible_only_if_it_could_name_a_server(host, plausible):
    assert is_plausible_host(host) is plausible
