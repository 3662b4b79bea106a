"""Writing a post in the owner's app, as a browser without JavaScript does it (both backends):
text, photos with descriptions (and the nudge when one is missing), the preview, a time to
post later, and the API's refusals shown next to the field with what was typed kept."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from fedi_town.webapp.compose import NUDGE
from tests.conftest import admin_headers, create_business
from tests.webapp.kit import AppUser, owner_of
from tests.webapp.labels import unlabelled

pytestmark = pytest.mark.anyio

COMPOSE = "/app/bakery/compose"


def jpeg(colour: tuple[int, int, int] = (200, 150, 90)) -> bytes:
    """A real JPEG, as a phone's camera would send (smaller): loaves on a board."""
    image = Image.new("RGB", (320, 240), (232, 222, 205))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 170, 320, 240), fill=(150, 105, 60))
    for left in (20, 120, 220):
        draw.ellipse((left, 110, left + 85, 185), fill=colour, outline=(120, 70, 30), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    return buffer.getvalue()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (32, 32), (10, 120, 200, 255)).save(buffer, "PNG")
    return buffer.getvalue()


async def api_posts(app_client: Any, username: str = "bakery") -> list[dict[str, Any]]:
    answer = await app_client.get(f"/api/v1/businesses/{username}/posts", headers=admin_headers())
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def kept_media_ids(html: str) -> list[str]:
    return re.findall(r'name="media_id" value="(\d+)"', html)


def textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea id="{name}" name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, f"no textarea {name}"
    return unescape(found.group(1))


async def write(user: AppUser, data: dict[str, Any], **kwargs: Any) -> Any:
    """Open the compose page and send its form with ``data``."""
    await user.get(COMPOSE)
    return await user.submit(COMPOSE, data, **kwargs)


async def test_a_text_post_is_posted_and_listed(app_client):
    # Given a signed-in owner on the compose page
    user = await owner_of(app_client, "bakery")
    page = await user.get(COMPOSE)
    assert page.status_code == 200
    assert "Write a post" in page.text and 'accept="image/*"' in page.text
    # When she writes a few words and presses Post
    shown = await user.submit(
        COMPOSE, {"content": "Fresh rye, warm till noon", "action": "post"}, follow=True
    )
    # Then the post is stored, she lands on it with "Posted.", and it is in her list
    [post] = await api_posts(app_client)
    assert post["content"] == "Fresh rye, warm till noon" and post["visibility"] == "public"
    assert shown.url.path == f"/app/bakery/posts/{post['id']}"
    assert "Posted." in shown.text
    listed = await user.get("/app/bakery/posts")
    assert "Fresh rye, warm till noon" in listed.text


async def test_a_post_can_say_who_may_quote_it(app_client):
    # Given an owner on the compose page, which offers the business's setting by default
    user = await owner_of(app_client, "bakery")
    page = await user.get(COMPOSE)
    assert 'id="quote-default" name="quote_policy" value="" checked' in page.text
    # When she lets only followers quote her post
    await user.submit(
        COMPOSE, {"content": "Rye", "quote_policy": "followers", "action": "post"}, follow=True
    )
    # Then the post says so; a made-up choice falls back to the business's setting
    [post] = await api_posts(app_client)
    assert post["quote_policy"] == "followers"
    await user.submit(COMPOSE, {"content": "Spelt", "quote_policy": "x", "action": "post"})
    newest = (await api_posts(app_client))[0]
    assert newest["content"] == "Spelt" and newest["quote_policy"] is None


async def test_a_photo_from_the_camera_is_attached_with_its_description(app_client):
    # Given an owner with a photo just taken, described beside it
    user = await owner_of(app_client, "bakery")
    # When she posts it
    answer = await write(
        user,
        {"content": "Out of the oven", "new_description": "Six rye loaves cooling on a rack"},
        files=[("photos", ("IMG_0001.jpg", jpeg(), "image/jpeg"))],
    )
    # Then the post carries the photo with that description
    assert answer.status_code == 303, answer.text
    [post] = await api_posts(app_client)
    [photo] = post["media"]
    assert photo["description"] == "Six rye loaves cooling on a rack"
    assert photo["media_type"] == "image/jpeg" and photo["post_id"] == post["id"]


async def test_a_photo_without_description_is_asked_about_then_posted_anyway(app_client):
    # Given an owner who picked a PNG and described nothing
    user = await owner_of(app_client, "bakery")
    # When she presses Post
    asked = await write(
        user,
        {"content": "Croissants!", "action": "post"},
        files=[("photos", ("shot.png", png(), "image/png"))],
    )
    # Then the form comes back asking for a description, the photo kept, nothing posted
    assert asked.status_code == 200
    assert NUDGE in asked.text and "Post without a description" in asked.text
    [media_id] = kept_media_ids(asked.text)
    assert f'id="description_{media_id}"' in asked.text
    assert textarea(asked.text, "content") == "Croissants!"
    assert await api_posts(app_client) == []
    # When she chooses to post without one
    done = await user.submit(
        COMPOSE,
        {"content": "Croissants!", "media_id": media_id, "action": "post_anyway"},
        follow=True,
    )
    # Then it is posted with the photo, undescribed
    [post] = await api_posts(app_client)
    assert [m["id"] for m in post["media"]] == [media_id]
    assert post["media"][0]["description"] == ""
    assert "Posted." in done.text


async def test_the_nudge_takes_the_description_and_posts_with_it(app_client):
    user = await owner_of(app_client, "bakery")
    asked = await write(
        user, {"content": "Rolls"}, files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))]
    )
    [media_id] = kept_media_ids(asked.text)
    answer = await user.submit(
        COMPOSE,
        {
            "content": "Rolls",
            "media_id": media_id,
            f"description_{media_id}": "A basket of seeded rolls",
            "action": "post",
        },
    )
    assert answer.status_code == 303
    [post] = await api_posts(app_client)
    assert post["media"][0]["description"] == "A basket of seeded rolls"


async def test_a_kept_photo_can_be_removed_before_posting(app_client):
    user = await owner_of(app_client, "bakery")
    asked = await write(
        user, {"content": "Buns"}, files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))]
    )
    [media_id] = kept_media_ids(asked.text)
    answer = await user.submit(
        COMPOSE,
        {"content": "Buns", "media_id": media_id, f"remove_{media_id}": "on", "action": "post"},
    )
    assert answer.status_code == 303
    [post] = await api_posts(app_client)
    assert post["media"] == []
    gone = await app_client.get(
        f"/api/v1/businesses/bakery/media/{media_id}", headers=admin_headers()
    )
    assert gone.status_code == 404


async def test_text_the_api_finds_too_long_comes_back_with_the_sentence_next_to_it(app_client):
    # Given an owner who typed one character too many
    user = await owner_of(app_client, "bakery")
    text = "Sourdough " * 500 + "!"
    # When she posts
    answer = await write(user, {"content": text, "action": "post"})
    # Then the form comes back as 422 with the sentence right under the text box, text kept
    assert answer.status_code == 422
    field = re.search(r'<div class="field invalid">(.*?)</div>', answer.text, re.S)
    assert field and 'id="content"' in field.group(1)
    assert "Your text has 5001 characters; the most is 5000. Shorten it by 1." in field.group(1)
    assert 'aria-invalid="true"' in field.group(1) and 'id="content-error"' in field.group(1)
    assert textarea(answer.text, "content") == text
    assert await api_posts(app_client) == []


async def test_a_file_that_is_no_photo_is_named_and_the_rest_is_kept(app_client):
    user = await owner_of(app_client, "bakery")
    answer = await write(
        user,
        {"content": "Menu", "spoiler_text": "prices"},
        files=[
            ("photos", ("menu.jpg", b"not an image at all", "image/jpeg")),
            ("photos", ("ok.jpg", jpeg(), "image/jpeg")),
        ],
    )
    assert answer.status_code == 422
    assert "Not added: menu.jpg: this is not a photo we can use" in answer.text
    assert len(kept_media_ids(answer.text)) == 1  # the good one is uploaded and kept
    assert textarea(answer.text, "content") == "Menu"
    assert 'value="prices"' in answer.text


async def test_a_post_for_later_is_scheduled_in_the_shops_own_time(app_client):
    # Given a bakery in Berlin
    user = await owner_of(app_client, "bakery", timezone="Europe/Berlin")
    berlin = ZoneInfo("Europe/Berlin")
    tomorrow = datetime.now(berlin).date() + timedelta(days=1)
    # When the owner schedules a post for 07:30 tomorrow
    answer = await write(
        user,
        {
            "content": "Pretzels at 7:30",
            "visibility": "unlisted",
            "schedule_date": tomorrow.isoformat(),
            "schedule_time": "07:30",
            "action": "post",
        },
    )
    # Then it is scheduled for 07:30 Berlin time, and marked so on the posts page
    assert answer.status_code == 303
    [post] = await api_posts(app_client)
    assert post["scheduled"] is True and post["visibility"] == "unlisted"
    when = datetime.fromisoformat(post["scheduled_at"].replace("Z", "+00:00")).astimezone(berlin)
    assert (when.date(), when.strftime("%H:%M")) == (tomorrow, "07:30")
    listed = await user.get("/app/bakery/posts")
    assert "Scheduled</strong> for" in listed.text and "07:30" in listed.text


@pytest.mark.parametrize(
    ("day", "clock", "words"),
    [
        ("2026-05-14", "", "Give both a day and a time"),
        ("14/05/2026", "07:30", "Write the day like"),
        ("2001-01-01", "07:30", "That time has already passed"),
    ],
)
async def test_a_time_that_cannot_be_used_says_why(app_client, day, clock, words):
    user = await owner_of(app_client, "bakery")
    answer = await write(
        user, {"content": "Later", "schedule_date": day, "schedule_time": clock, "action": "post"}
    )
    assert answer.status_code == 422
    assert words in answer.text
    assert await api_posts(app_client) == []


async def test_the_preview_shows_the_post_as_mastodon_will_and_who_was_not_found(app_client):
    # Given an owner, and a cafe on this instance to mention
    user = await owner_of(app_client, "bakery")
    await create_business(app_client, "cafe", display_name="Corner Cafe")
    # When she previews a post with a warning, a photo, a mention found and one not found
    shown = await write(
        user,
        {
            "content": "Rye for @cafe and @nobody #rye",
            "spoiler_text": "bread talk",
            "new_description": "A round rye loaf",
            "action": "preview",
        },
        files=[("photos", ("rye.jpg", jpeg(), "image/jpeg"))],
    )
    # Then the card has the name, handle, the warning closed, the HTML and the photo's alt
    assert shown.status_code == 200
    card = shown.text.split('id="preview"', 1)[1].split("</section>", 1)[0]
    assert "Corner Bakery" in card and "@bakery@town.example" in card
    assert '<details class="status-cw">' in card and "bread talk" in card
    assert 'class="u-url mention"' in card and "#<span>rye</span>" in card
    assert 'alt="A round rye loaf"' in card
    # And it says which mention was not found and why, before anything is posted
    unresolved = card.split("Not found, so not mentioned", 1)[1]
    assert "@nobody@town.example" in unresolved
    assert "@cafe@town.example" in card.split("Not found", 1)[0]
    assert await api_posts(app_client) == []
    # When she then posts it, the page she lands on says who was not mentioned
    [media_id] = kept_media_ids(shown.text)
    done = await user.submit(
        COMPOSE,
        {
            "content": "Rye for @cafe and @nobody #rye",
            "spoiler_text": "bread talk",
            "media_id": media_id,
            f"description_{media_id}": "A round rye loaf",
            "action": "post",
        },
        follow=True,
    )
    assert "Posted. Not found, so not mentioned: @nobody@town.example" in unescape(done.text)
    [post] = await api_posts(app_client)
    assert post["spoiler_text"] == "bread talk" and len(post["media"]) == 1


async def test_a_reply_link_fills_in_what_is_replied_to(app_client):
    user = await owner_of(app_client, "bakery")
    note = "https://mastodon.example/users/alice/statuses/1"
    page = await user.get(COMPOSE, params={"in_reply_to": note, "visibility": "direct"})
    assert "Write a reply" in page.text
    assert f'name="in_reply_to" value="{note}"' in page.text
    assert 'value="direct" checked' in page.text
    ignored = await user.get(COMPOSE, params={"in_reply_to": "javascript:alert(1)"})
    assert 'name="in_reply_to"' not in ignored.text


async def test_every_field_of_the_compose_form_has_a_label(app_client):
    # Given the form as first shown, and as shown again with a kept photo and a preview
    user = await owner_of(app_client, "bakery")
    first = await user.get(COMPOSE)
    again = await user.submit(
        COMPOSE,
        {"content": "Hello", "action": "preview"},
        files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))],
    )
    assert again.status_code == 200 and kept_media_ids(again.text)
    # Then every field anyone fills in has a label pointing at it
    for page in (first, again):
        assert unlabelled(page.text) == []


async def test_another_business_compose_page_is_404(app_client):
    user = await owner_of(app_client, "bakery")
    await create_business(app_client, "cafe")
    assert (await user.get("/app/cafe/compose")).status_code == 404
    await user.get(COMPOSE)
    refused = await user.submit("/app/cafe/compose", {"content": "Not mine", "action": "post"})
    assert refused.status_code == 404
    assert await api_posts(app_client, "cafe") == []
