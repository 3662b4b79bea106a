"""HTML from other servers cleaned to what Mastodon keeps; plain text of clean HTML."""

from __future__ import annotations

import pytest

from fedi_town.text.sanitize import html_to_text, sanitize_html

REL = 'rel="nofollow noopener noreferrer"'


@pytest.mark.parametrize(
    ("html", "clean"),
    [
        ('<p onclick="x()">hi<img src=x><script>bad()</script></p>', "<p>hi</p>"),
        ('<style>p{}</style><p style="color:red">t</p>', "<p>t</p>"),
        ("<!-- note --><em>a</em>", "<em>a</em>"),
        ("<iframe src='https://x.test'></iframe>ok", "ok"),
    ],
)
def test_scripts_styles_images_handlers_and_comments_are_dropped(html: str, clean: str):
    assert sanitize_html(html) == clean


def test_a_link_keeps_its_href_and_is_marked_nofollow():
    html = sanitize_html('<a href="https://x.test/p">post</a>')
    assert html == f'<a href="https://x.test/p" {REL}>post</a>'


def test_a_javascript_link_loses_its_href():
    assert sanitize_html('<a href="javascript:alert(1)">x</a>') == f"<a {REL}>x</a>"


def test_only_the_classes_mastodon_gives_meaning_are_kept():
    # Given a mention link carrying one meaningful class and one foreign class
    html = '<a href="https://x.test/@jo" class="mention evil">@jo</a>'
    # When it is cleaned
    clean = sanitize_html(html)
    # Then the mention class stays and the other goes
    assert clean == f'<a href="https://x.test/@jo" class="mention" {REL}>@jo</a>'


def test_the_invisible_part_of_a_shortened_link_keeps_its_class():
    html = '<span class="invisible">https://</span><span class="ellipsis">x.test</span>'
    assert sanitize_html(html) == html


def test_a_heading_becomes_strong_text():
    assert sanitize_html("<h2>Title</h2>") == "<p><strong>Title</strong></p>"


def test_plain_text_of_clean_html_keeps_lines_and_paragraphs_and_drops_tags():
    # Given clean HTML with a line break, two paragraphs and a link
    html = '<p>one<br>two</p><p>three <a href="https://x.test">four</a></p>'
    # When it becomes plain text for a preview
    text = html_to_text(html)
    # Then lines and paragraphs survive as newlines, and no tag is left
    assert text == "one\ntwo\n\nthree four"


def test_plain_text_is_unescaped_once_so_a_template_escapes_it_once():
    # Given sanitised HTML holding an escaped ampersand and angle brackets
    html = "<p>Coffee &amp; cake &lt;3</p>"
    # When it becomes plain text
    text = html_to_text(html)
    # Then the text is what a person reads, ready for an escaping template
    assert text == "Coffee & cake <3"
