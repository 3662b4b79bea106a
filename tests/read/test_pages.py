"""HTML pages: profile, post, tag, front page, error pages; what browsers and link previews see."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fedi_town.store import emojis as store_emojis
from fedi_town.store.emojis import CachedEmoji, digest_of
from tests.conftest import admin_headers, create_business
from tests.outbound.conftest import write_post
from tests.read.helpers import (
    BROWSER,
    insert_follow,
    insert_interaction,
    insert_media,
    insert_post,
    insert_remote_actor,
    insert_reply,
    set_profile,
)

pytestmark = pytest.mark.anyio

ACTOR = "https://town.example/users/bakery"


async def test_profile_page_shows_the_business_its_posts_and_the_follow_form(app_client):
    # Given a business with a profile, a follower, a pinned post and recent posts
    await create_business(
        app_client,
        "bakery",
        summary="Fresh **bread**",
        website="https://bakery.example/",
        fields=[{"name": "Hours", "value": "7-18"}],
    )
    alice, _ = await insert_remote_actor(app_client, "alice")
    await insert_follow(app_client, "bakery", alice)
    await insert_post(app_client, content_html="<p>Pinned: our hours</p>", pinned_at=5)
    await insert_post(app_client, content_html="<p>Sourdough is ready</p>")
    await insert_post(app_client, content_html="<p>Only for followers</p>", visibility="followers")
    # When a browser opens the profile
    response = await app_client.get("/@bakery", headers=BROWSER)
    # Then it is an HTML page with the profile, the follow form and the public posts
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert '<meta name="viewport"' in html
    assert "Corner Bakery" in html
    assert "<strong>bread</strong>" in html
    assert "<code>@bakery@town.example</code>" in html
    assert 'action="https://town.example/@bakery/follow"' in html
    assert 'name="handle"' in html
    assert "Sourdough is ready" in html
    assert "Only for followers" not in html
    assert html.index("Pinned: our hours") < html.index("Sourdough is ready")
    assert "<strong>1</strong> follower" in html
    assert "Hours" in html and "7-18" in html
    # And it points ActivityPub clients and Mastodon's link verifier the right way
    assert f'<link rel="alternate" type="application/activity+json" href="{ACTOR}">' in html
    assert '<link rel="me" href="https://bakery.example/">' in html
    assert 'rel="me nofollow noopener noreferrer"' in html
    assert '<meta property="og:title" content="Corner Bakery (@bakery@town.example)">' in html
    assert '<meta property="og:url" content="https://town.example/@bakery">' in html
    assert (
        response.headers["link"] == f'<{ACTOR}>; rel="alternate"; type="application/activity+json"'
    )
    # And no script runs on it
    assert "<script" not in html
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_profile_page_escapes_what_owners_write(app_client):
    await create_business(
        app_client,
        "bakery",
        display_name="<script>alert(1)</script>",
        fields=[{"name": "<b>x</b>", "value": "<img src=x onerror=alert(1)>"}],
    )
    html = (await app_client.get("/@bakery", headers=BROWSER)).text
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html


async def test_profile_page_shows_avatar_and_header(app_client):
    await create_business(app_client, "bakery")
    avatar = await insert_media(app_client, path="a/avatar.png")
    header = await insert_media(app_client, path="a/header.png")
    await set_profile(app_client, "bakery", avatar_media_id=avatar, header_media_id=header)
    html = (await app_client.get("/@bakery", headers=BROWSER)).text
    assert 'src="https://town.example/media/a/avatar.png"' in html
    assert 'src="https://town.example/media/a/header.png"' in html
    assert '<meta property="og:image" content="https://town.example/media/a/avatar.png">' in html


async def test_unknown_and_deleted_profiles_are_html_error_pages_for_browsers(app_client):
    await create_business(app_client, "bakery")
    await app_client.delete("/api/v1/businesses/bakery", headers=admin_headers())
    missing = await app_client.get("/@nobody", headers=BROWSER)
    gone = await app_client.get("/@bakery", headers=BROWSER)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert gone.status_code == 410
    assert gone.headers["content-type"].startswith("text/html")


async def test_post_page_shows_the_post_media_counts_and_replies(app_client):
    # Given a post with an image, a like, a boost and a reply
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client, content_html="<p>New <em>rye</em> loaf</p>")
    await insert_media(
        app_client, path="p/rye.jpg", media_type="image/jpeg", post_id=post_id, description="Rye"
    )
    alice, _ = await insert_remote_actor(app_client, "alice", display_name="Alice A.")
    await insert_interaction(app_client, post_id, alice, "like")
    await insert_interaction(app_client, post_id, alice, "announce")
    await insert_reply(
        app_client,
        alice,
        f"{ACTOR}/statuses/{post_id}",
        content_html='<p>Yum!</p><script>alert(1)</script><img src="x">',
    )
    # When a browser opens the post page
    response = await app_client.get(f"/@bakery/{post_id}", headers=BROWSER)
    # Then the post, its image, its counts and the (sanitised) reply are there
    assert response.status_code == 200
    html = response.text
    assert "<p>New <em>rye</em> loaf</p>" in html
    assert '<img src="https://town.example/media/p/rye.jpg" alt="Rye"' in html
    assert "1 like" in html and "1 boost" in html and "1 reply" in html
    assert "Alice A." in html and "@alice@mastodon.example" in html
    assert "Yum!" in html
    assert "<script>alert" not in html
    assert '<img src="x">' not in html
    # And it points at the Note
    note = f"{ACTOR}/statuses/{post_id}"
    assert f'<link rel="alternate" type="application/activity+json" href="{note}">' in html
    assert '<meta property="og:type" content="article">' in html


async def test_reply_links_from_other_servers_are_only_http(app_client):
    # Given a reply whose author and note URLs are script URLs
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client)
    alice, _ = await insert_remote_actor(app_client, "alice")
    await insert_reply(app_client, alice, f"{ACTOR}/statuses/{post_id}")
    store = app_client.services.store
    await store.execute("UPDATE remote_actors SET url = :u", {"u": "javascript:alert(1)"})
    await store.execute("UPDATE remote_notes SET url = :u", {"u": "JavaScript:alert(2)"})
    # When the post page shows it
    html = (await app_client.get(f"/@bakery/{post_id}", headers=BROWSER)).text
    # Then the links fall back to the http ids, never the script URLs
    assert "alert(" not in html
    assert 'href="https://mastodon.example/users/alice"' in html


async def test_a_content_warning_hides_the_post_behind_a_details_element(app_client):
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client, spoiler_text="Spoiler: prices", sensitive=True)
    html = (await app_client.get(f"/@bakery/{post_id}", headers=BROWSER)).text
    assert "<details" in html and "Spoiler: prices" in html


async def test_tag_page_lists_posts_with_that_hashtag(app_client):
    # Given posts with and without a tag, in any case
    await create_business(app_client, "bakery")
    await insert_post(app_client, content_html="<p>rye #Bread</p>", hashtags=["Bread"])
    await insert_post(app_client, content_html="<p>cake #cake</p>", hashtags=["cake"])
    await insert_post(
        app_client, content_html="<p>secret #bread</p>", hashtags=["bread"], visibility="followers"
    )
    # When the tag page is opened
    response = await app_client.get("/@bakery/tagged/bread", headers=BROWSER)
    # Then only the public posts with the tag are there
    assert response.status_code == 200
    assert "rye #Bread" in response.text
    assert "cake #cake" not in response.text
    assert "secret" not in response.text
    assert "#bread" in response.text


async def test_front_page_lists_discoverable_businesses(app_client):
    # Given two listed businesses, one unlisted and one deleted
    await create_business(app_client, "bakery", summary="Bread and **cakes**")
    await create_business(app_client, "cafe", display_name="Cafe Central")
    await create_business(app_client, "hidden", display_name="Hidden Shop", discoverable=False)
    await create_business(app_client, "closed", display_name="Closed Shop")
    await app_client.delete("/api/v1/businesses/closed", headers=admin_headers())
    # When the front page is opened
    response = await app_client.get("/", headers=BROWSER)
    # Then the listed ones are there with handle and summary excerpt
    assert response.status_code == 200
    html = response.text
    assert "Corner Bakery" in html and "@bakery@town.example" in html
    assert "Bread and cakes" in html
    assert "Cafe Central" in html
    assert "Hidden Shop" not in html
    assert "Closed Shop" not in html
    assert 'href="https://town.example/@bakery"' in html


async def test_front_page_shows_the_instance_name(make_client):
    async with make_client(instance_name="Springfield Shops") as client:
        html = (await client.get("/")).text
    assert "<h1>Springfield Shops</h1>" in html


async def test_the_stylesheet_is_served(app_client):
    response = await app_client.get("/static/style.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "max-width" in response.text


async def test_an_ampersand_in_a_bio_shows_once_escaped_in_page_and_meta_tags(app_client):
    # Given a business whose bio says "Coffee & cake"
    await create_business(app_client, "bakery", summary="Coffee & cake <3")
    # When the front page and the profile page are opened
    front = (await app_client.get("/", headers=BROWSER)).text
    page = (await app_client.get("/@bakery", headers=BROWSER)).text
    # Then the HTML holds the ampersand escaped exactly once, on screen and in og:description
    for html in (front, page):
        assert "Coffee &amp; cake &lt;3" in html
        assert "&amp;amp;" not in html and "&amp;lt;" not in html
    assert '<meta property="og:description" content="Coffee &amp; cake &lt;3">' in page


async def test_post_times_show_date_and_time_in_the_business_zone_across_a_dst_change(
    clocked_client, clock
):
    # Given a bakery in Berlin that posts at 07:30 on its clock the day before and the day
    # after summer time begins (28 Mar 2027: 06:30 UTC, then 05:30 UTC)
    business = await create_business(clocked_client, "bakery")
    await set_profile(clocked_client, "bakery", timezone="Europe/Berlin")
    clock.now = datetime(2027, 3, 27, 6, 30, tzinfo=UTC)
    before = (await write_post(clocked_client, business, content="Buns out at 7:30")).json()
    clock.now = datetime(2027, 3, 29, 5, 30, tzinfo=UTC)
    after = (await write_post(clocked_client, business, content="Buns out at 7:30 again")).json()
    # When its profile and the second post's page are opened
    profile = (await clocked_client.get("/@bakery", headers=BROWSER)).text
    page = (await clocked_client.get(f"/@bakery/{after['id']}", headers=BROWSER)).text
    # Then each post shows its date and 07:30, with the offset of that day in the markup
    assert '<time datetime="2027-03-27T07:30:00+01:00">27 Mar 2027, 07:30</time>' in profile
    assert '<time datetime="2027-03-29T07:30:00+02:00">29 Mar 2027, 07:30</time>' in profile
    assert '<time datetime="2027-03-29T07:30:00+02:00">29 Mar 2027, 07:30</time>' in page
    assert before["id"] != after["id"]


async def test_post_times_use_the_instance_zone_when_the_business_names_none(make_client):
    async with make_client(timezone="America/New_York") as client:
        await create_business(client, "bakery")
        await insert_post(client, content_html="<p>Late bagels</p>", published_at=1_795_132_800_000)
        html = (await client.get("/@bakery", headers=BROWSER)).text
    assert '<time datetime="2026-11-19T19:00:00-05:00">19 Nov 2026, 19:00</time>' in html


async def test_front_page_groups_the_high_street_by_category(app_client):
    # Given a bakery, a café, a shop with no category and one that left the directory
    await create_business(app_client, "bakery", summary="Sourdough")
    await create_business(app_client, "cafe", display_name="Cafe Central")
    await create_business(app_client, "misc", display_name="Odds and Ends")
    await create_business(app_client, "quiet", display_name="Quiet Shop")
    await set_profile(app_client, "bakery", category="Bakery")
    await set_profile(app_client, "cafe", category="CafeOrCoffeeShop")
    await set_profile(app_client, "quiet", category="Bakery", in_directory=False)
    # When the front page is opened
    html = (await app_client.get("/", headers=BROWSER)).text
    # Then each category is a heading, in order, "Other" last, each business under its own
    bakery, cafe, other = (html.index(f"<h2>{h}</h2>") for h in ("Bakery", "Café", "Other"))
    assert bakery < html.index("Corner Bakery") < cafe < html.index("Cafe Central") < other
    assert other < html.index("Odds and Ends")
    # And the business that left the directory is not listed
    assert "Quiet Shop" not in html
    # And the category filter offers the categories there are
    assert '<option value="Bakery">Bakery</option>' in html


async def test_front_page_search_and_category_narrow_the_list(app_client):
    await create_business(app_client, "bakery", summary="Sourdough and rye")
    await create_business(app_client, "cafe", display_name="Cafe Central", summary="Cake")
    await set_profile(app_client, "bakery", category="Bakery")
    # A search matches the bio, whatever the case
    html = (await app_client.get("/", params={"q": "SOURDOUGH"}, headers=BROWSER)).text
    assert "Corner Bakery" in html and "Cafe Central" not in html
    assert "1 of 2 businesses matching “SOURDOUGH”" in html
    # A category shows only its businesses, and is the one chosen in the form
    html = (await app_client.get("/", params={"category": "Bakery"}, headers=BROWSER)).text
    assert "Corner Bakery" in html and "Cafe Central" not in html
    assert '<option value="Bakery" selected>Bakery</option>' in html
    # Nothing matching says so
    html = (await app_client.get("/", params={"q": "plumbing"}, headers=BROWSER)).text
    assert "No business matches." in html and "Corner Bakery" not in html


async def test_front_page_escapes_the_search_it_echoes(app_client):
    await create_business(app_client, "bakery")
    attack = '"><script>alert(1)</script>'
    html = (
        await app_client.get("/", params={"q": attack, "category": attack}, headers=BROWSER)
    ).text
    assert "<script>alert(1)</script>" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert "“&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;”" in html


async def test_front_page_invites_to_follow_the_directory_which_is_no_business(app_client):
    # Without a directory there is no such line
    await create_business(app_client, "bakery")
    assert "Follow the whole high street" not in (await app_client.get("/", headers=BROWSER)).text
    # Given the directory
    response = await app_client.put(
        "/api/v1/admin/directory",
        json={"username": "town", "display_name": "Town High Street"},
        headers=admin_headers(),
    )
    assert response.status_code == 201
    # Then the front page says how to follow the whole high street, and lists it nowhere else
    html = (await app_client.get("/", headers=BROWSER)).text
    assert "Follow the whole high street:" in html
    assert '<code class="handle">@town@town.example</code>' in html
    assert html.count("@town@town.example") == 1
    assert "Town High Street" not in html


async def test_front_page_open_now_filter_uses_each_shops_own_zone(clocked_client):
    # Given, at Monday 12:00 UTC, a bakery in Berlin open 7-18 (13:00 there: open), a café
    # in New York open 7-18 (07:00 there: open), a bar in Tokyo open 18-02 (21:00: open
    # only on Sundays), and a shop with no hours
    client = clocked_client
    for name in ("bakery", "cafe", "bar", "shop"):
        await create_business(client, name, display_name=name.title())
    week = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    await set_profile(
        client,
        "bakery",
        category="Bakery",
        timezone="Europe/Berlin",
        hours={d: [["07:00", "18:00"]] for d in week},
    )
    await set_profile(
        client,
        "cafe",
        category="CafeOrCoffeeShop",
        timezone="America/New_York",
        hours={d: [["07:00", "18:00"]] for d in week},
    )
    await set_profile(
        client,
        "bar",
        category="BarOrPub",
        timezone="Asia/Tokyo",
        hours={"sun": [["18:00", "02:00"]]},
    )
    # When the front page is asked for what is open now
    html = (await client.get("/", params={"open": "1"}, headers=BROWSER)).text
    # Then the two open ones are listed, with their status, and the others are not
    assert "Bakery" in html and "Cafe" in html
    assert "Open now · until 18:00" in html
    assert ">Bar<" not in html and ">Shop<" not in html
    assert "2 of 4 businesses, open now." in html
    assert 'name="open" value="1" checked' in html
    # And the whole list shows every status, under labels for people
    html = (await client.get("/", headers=BROWSER)).text
    assert "<h2>Café</h2>" in html and "Closed · opens Sun 18:00" in html


async def test_a_reply_shows_its_custom_emoji_poll_and_attachments_as_the_inbox_does(app_client):
    # Given a reply (as Misskey writes one: custom emoji, a poll, a picture) whose :blobcat:
    # icon the cache kept and whose :gone: icon it refused
    await create_business(app_client, "bakery")
    post_id = await insert_post(app_client)
    alice, _ = await insert_remote_actor(app_client, "alice")
    blobcat = "https://misskey.example/files/blobcat.png"
    gone = "https://misskey.example/files/gone.png"
    store = app_client.services.store
    await store_emojis.record(
        store,
        CachedEmoji(digest_of(blobcat), blobcat, "ok", "image/png", "emoji/x.png", 16, 16, None),
        1,
    )
    await store_emojis.record(
        store, CachedEmoji(digest_of(gone), gone, "refused", None, None, None, None, "too big"), 1
    )
    await insert_reply(
        app_client,
        alice,
        f"{ACTOR}/statuses/{post_id}",
        content_html="<p>Rye or spelt? :blobcat: :gone:</p>",
        summary="Bread talk :blobcat: <b>",
        emojis=[{"shortcode": "blobcat", "url": blobcat}, {"shortcode": "gone", "url": gone}],
        poll={
            "options": [{"title": "Rye", "votes": 3}, {"title": "Spelt", "votes": 1}],
            "multiple": False,
            "ends_at": None,
            "closed": False,
            "voters": None,
        },
        attachments=[
            {
                "url": "https://misskey.example/files/loaf.jpg",
                "type": "image",
                "media_type": "image/jpeg",
                "description": "A loaf",
            },
            {"url": "javascript:alert(1)", "type": "unknown", "media_type": None},
        ],
    )
    # When a browser opens the post page
    html = (await app_client.get(f"/@bakery/{post_id}", headers=BROWSER)).text
    # Then the kept emoji is its picture from this site, the refused one stays as text
    assert f'<img class="emoji" src="/proxy/emoji/{digest_of(blobcat)}" alt=":blobcat:"' in html
    assert ":gone:" in html and digest_of(gone) not in html
    # And the content warning shows the emoji too, its markup as text
    assert f'<summary>Bread talk <img class="emoji" src="/proxy/emoji/{digest_of(blobcat)}"' in html
    assert "&lt;b&gt;</summary>" in html
    # And the poll shows its options with shares, the picture is a described link only
    assert '<span class="poll-title">Rye</span> <span class="poll-count">75% (3)</span>' in html
    assert "4 votes" in html
    assert (
        '<a href="https://misskey.example/files/loaf.jpg" rel="nofollow noopener noreferrer">'
        "Picture</a>: A loaf" in html
    )
    assert "javascript:" not in html and '<img src="https://misskey.example' not in html
