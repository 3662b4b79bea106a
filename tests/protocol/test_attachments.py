"""Attachments of received notes: what is kept, what is dropped."""

from __future__ import annotations

from fedi_town.protocol.attachments import (
    MAX_ATTACHMENTS,
    MAX_DESCRIPTION,
    Attachment,
    attachments_of,
    from_json,
)


def test_a_mastodon_image_is_kept_by_url_with_its_description() -> None:
    note = {
        "attachment": [
            {
                "type": "Document",
                "mediaType": "image/jpeg",
                "url": "https://files.example/a.jpg",
                "name": "Bread on a shelf",
                "blurhash": "x",
            }
        ]
    }
    assert attachments_of(note) == (
        Attachment("https://files.example/a.jpg", "image", "image/jpeg", "Bread on a shelf"),
    )


def test_a_link_url_and_a_single_object_are_read() -> None:
    note = {
        "attachment": {
            "type": "Video",
            "url": [{"type": "Link", "href": "https://v.example/v.mp4", "mediaType": "video/mp4"}],
        }
    }
    (found,) = attachments_of(note)
    assert (found.url, found.kind) == ("https://v.example/v.mp4", "video")
    assert found.media_type == "video/mp4"


def test_hostile_urls_and_non_media_items_are_dropped() -> None:
    note = {
        "attachment": [
            {"type": "Document", "url": "javascript:alert(1)"},
            {"type": "Document", "url": "data:image/png;base64,AAAA"},
            {"type": "Image", "url": "https://x.example/a b.png"},
            {"type": "PropertyValue", "name": "Site", "value": "https://x.example/"},
            {"type": "Document", "url": "https://x.example/ok.png", "mediaType": "<script>"},
            "https://x.example/bare-string",
        ]
    }
    assert attachments_of(note) == (Attachment("https://x.example/ok.png", "unknown", None, ""),)


def test_at_most_eight_are_kept_and_descriptions_are_cut() -> None:
    item = {"type": "Image", "url": "https://x.example/a.png", "name": "\x07" + "d" * 5000}
    found = attachments_of({"attachment": [item] * 20})
    assert len(found) == MAX_ATTACHMENTS
    assert found[0].description == "d" * MAX_DESCRIPTION
    assert found[0].kind == "image"


def test_stored_json_reads_back() -> None:
    kept = Attachment("https://x.example/a.png", "image", "image/png", "A loaf")
    assert from_json([kept.as_json(), {"no": "url"}]) == (kept,)
