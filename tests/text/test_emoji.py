"""text.emoji: ``:shortcode:`` shown as fedi-town's own emoji image, in text only, and the
second cleaning that keeps no image but those."""

from __future__ import annotations

from fedi_town.text.emoji import emoji_img, emojify, sanitize_with_emoji
from fedi_town.text.sanitize import sanitize_html

PATH = "/proxy/emoji/" + "ab" * 32


def test_a_shortcode_in_text_becomes_the_emoji_image_with_its_code_as_alt_and_title():
    html = emojify("<p>fresh :baguette: today &amp; :unknown:</p>", {"baguette": PATH})
    assert html == f"<p>fresh {emoji_img('baguette', PATH)} today &amp; :unknown:</p>"
    assert f'src="{PATH}" alt=":baguette:" title=":baguette:"' in html


def test_a_shortcode_inside_a_tag_or_an_attribute_is_left_alone():
    source = '<p><a href="https://x.example/:baguette:" title=":baguette:">link</a></p>'
    assert emojify(source, {"baguette": PATH}) == source


def test_an_emoji_path_that_is_not_ours_is_never_written():
    assert emojify("<p>:x:</p>", {"x": "https://evil.example/x.png"}) == "<p>:x:</p>"
    assert emojify("<p>:x:</p>", {"x": "/proxy/emoji/../../etc"}) == "<p>:x:</p>"


def test_the_second_cleaning_keeps_our_emoji_images_and_nothing_else():
    ours = emojify("<p>hi :baguette:</p>", {"baguette": PATH})
    assert sanitize_with_emoji(ours) == ours
    hostile = (
        '<p><img src="https://tracker.example/p.gif" alt=":baguette:">'
        f'<img src="{PATH}" alt="a" onerror="alert(1)">'
        f'<img src="{PATH}" alt=":ok:" onload="x()" style="width:9999px">'
        '<img src="javascript:alert(1)"><script>alert(2)</script></p>'
    )
    cleaned = sanitize_with_emoji(hostile)
    assert "tracker.example" not in cleaned and "javascript" not in cleaned
    assert "onerror" not in cleaned and "onload" not in cleaned and "style" not in cleaned
    assert "<script" not in cleaned
    assert cleaned == f"<p>:baguette:{emoji_img('ok', PATH)}</p>"


def test_the_stored_cleaning_drops_every_image_of_the_sender():
    sent = f'<p>:ok: <img src="{PATH}" alt=":ok:"> <img src="https://x.example/a.png"></p>'
    assert "<img" not in sanitize_html(sent)


def test_html_without_images_is_cleaned_as_usual():
    assert sanitize_with_emoji("<p>a<script>b</script></p>") == sanitize_html(
        "<p>a<script>b</script></p>"
    )
