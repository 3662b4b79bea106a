"""Owner-written text to HTML: Markdown with raw HTML shown as text, plain text escaped."""

from __future__ import annotations

from fedi_town.text.render import markdown_to_html, plain_to_html


def test_markdown_emphasis_and_line_breaks_typed_on_a_phone_are_kept():
    # Given what an owner types, with a plain line break
    source = "Fresh **bread**\ntoday"
    # When it is rendered
    html = markdown_to_html(source)
    # Then the emphasis is strong and the line break stays a line break
    assert html == "<p>Fresh <strong>bread</strong><br>\ntoday</p>"


def test_a_heading_becomes_strong_text_as_mastodon_shows_it():
    assert markdown_to_html("# Menu") == "<p><strong>Menu</strong></p>"


def test_strikethrough_is_rendered():
    assert markdown_to_html("~~old~~ new") == "<p><s>old</s> new</p>"


def test_raw_html_in_markdown_is_shown_as_text_never_run():
    assert markdown_to_html("<script>alert(1)</script>") == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )


def test_a_javascript_link_in_markdown_never_becomes_a_link():
    assert "<a" not in markdown_to_html("[x](javascript:alert(1))")


def test_plain_text_is_escaped_and_its_lines_joined_by_line_breaks():
    # Given an address with characters that mean something in HTML
    text = "1 Main St\n<Town> & co"
    # When it is shown as HTML
    html = plain_to_html(text)
    # Then it reads the same, on two lines, with nothing interpreted
    assert html == "1 Main St<br>&lt;Town&gt; &amp; co"
