"""Polls through the Mastodon client API: made with a status (form or JSON), read as a
Poll, voted in by another business here; bad input answered as Mastodon does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from mastodon import return_types

from tests.mastodon.flow import bearer, business_with_token, entity_gaps, token_for
from tests.mastodon.test_routes import png

pytestmark = pytest.mark.anyio


async def _poll_post(client: Any, token: str, **poll: Any) -> dict[str, Any]:
    body = {"status": "Which bread on Sunday?", "poll": {"expires_in": 3600, **poll}}
    response = await client.post("/api/v1/statuses", json=body, headers=bearer(token))
    assert response.status_code == 200, response.text
    status: dict[str, Any] = response.json()
    return status


async def test_a_form_poll_is_a_status_with_a_poll_readable_by_its_id(app_client):
    # Given a business's app token
    _owner, token = await business_with_token(app_client)
    # When it posts a poll as a form, as most apps send it
    response = await app_client.post(
        "/api/v1/statuses",
        data={
            "status": "Sunday bread?",
            "poll[options][]": ["Rye", "Spelt", "Sourdough"],
            "poll[expires_in]": "86400",
            "poll[multiple]": "true",
        },
        headers=bearer(token),
    )
    # Then the status carries the poll, the business's own (so "voted")
    assert response.status_code == 200, response.text
    poll = response.json()["poll"]
    assert [o["title"] for o in poll["options"]] == ["Rye", "Spelt", "Sourdough"]
    assert poll["multiple"] is True and poll["expired"] is False
    assert poll["votes_count"] == 0 and poll["voted"] is True and poll["own_votes"] == []
    assert poll["id"] == response.json()["id"]
    # And it reads the same by its id, with every field Mastodon.py declares
    read = await app_client.get(f"/api/v1/polls/{poll['id']}", headers=bearer(token))
    assert read.json() == poll
    assert entity_gaps(return_types.Poll, read.json()) == []
    assert entity_gaps(return_types.PollOption, read.json()["options"][0]) == []
    # And without a token, a public poll is readable too (not voted)
    anonymous = await app_client.get(f"/api/v1/polls/{poll['id']}")
    assert anonymous.json()["voted"] is False


async def test_the_note_is_a_question_with_one_of_its_options(app_client):
    # Given a one-choice poll
    _owner, token = await business_with_token(app_client)
    status = await _poll_post(app_client, token, options=["Rye", "Spelt"])
    # When its Note is fetched as ActivityPub
    note = await app_client.get(status["uri"], headers={"Accept": "application/activity+json"})
    # Then it is a Question with oneOf, each option's count, the end and the voters
    doc = note.json()
    assert doc["type"] == "Question"
    assert [(o["name"], o["replies"]["totalItems"]) for o in doc["oneOf"]] == [
        ("Rye", 0),
        ("Spelt", 0),
    ]
    assert doc["endTime"].endswith("Z") and doc["votersCount"] == 0
    assert "anyOf" not in doc and "closed" not in doc


async def test_another_business_votes_once_and_sees_its_choice(app_client):
    # Given the bakery's poll and the florist's token
    _owner, token = await business_with_token(app_client)
    status = await _poll_post(app_client, token, options=["Rye", "Spelt"])
    _florist_owner, florist = await business_with_token(app_client, "florist")
    poll_id = status["poll"]["id"]
    # When the florist votes for Spelt
    voted = await app_client.post(
        f"/api/v1/polls/{poll_id}/votes", json={"choices": [1]}, headers=bearer(florist)
    )
    # Then the poll counts it and shows the florist's own vote
    assert voted.status_code == 200, voted.text
    assert voted.json()["voted"] is True and voted.json()["own_votes"] == [1]
    assert [o["votes_count"] for o in voted.json()["options"]] == [0, 1]
    assert voted.json()["voters_count"] == 1
    # And a second vote, a vote for two options of a one-choice poll, and a vote in its
    # own poll are refused
    again = await app_client.post(
        f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}, headers=bearer(florist)
    )
    own = await app_client.post(
        f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}, headers=bearer(token)
    )
    assert again.status_code == 422 and "already voted" in again.json()["error"]
    assert own.status_code == 422 and "own poll" in own.json()["error"]


@pytest.mark.parametrize(
    ("poll", "words"),
    [
        ({"options": ["a", "b", "c", "d", "e"], "expires_in": 3600}, "too long"),
        ({"options": ["only"], "expires_in": 3600}, "too short"),
        ({"options": ["a", "b"], "expires_in": 10}, "300"),
        ({"options": ["a", "b"], "expires_in": 99_999_999}, "2629746"),
        ({"options": ["Rye", "rye"], "expires_in": 3600}, "different"),
        ({"options": ["a", "  "], "expires_in": 3600}, "blank"),
        ({"options": ["x" * 51, "b"], "expires_in": 3600}, "too long"),
        ({"options": ["a", "b"], "expires_in": "soon"}, "expires_in"),
    ],
)
async def test_bad_polls_are_422_saying_why(app_client, poll, words):
    _owner, token = await business_with_token(app_client)
    response = await app_client.post(
        "/api/v1/statuses", json={"status": "Vote", "poll": poll}, headers=bearer(token)
    )
    assert response.status_code == 422, response.text
    assert words in response.json()["error"]


async def test_a_poll_with_images_or_a_schedule_is_422(app_client):
    _owner, token = await business_with_token(app_client)
    poll = {"options": ["a", "b"], "expires_in": 3600}
    scheduled = await app_client.post(
        "/api/v1/statuses",
        json={"status": "Vote", "poll": poll, "scheduled_at": "2099-01-01T00:00:00Z"},
        headers=bearer(token),
    )
    assert scheduled.status_code == 422 and "scheduled" in scheduled.json()["error"]
    media = await app_client.post(
        "/api/v2/media", files={"file": ("a.png", png(), "image/png")}, headers=bearer(token)
    )
    assert media.status_code == 200, media.text
    with_media = await app_client.post(
        "/api/v1/statuses",
        json={"status": "Vote", "poll": poll, "media_ids": [media.json()["id"]]},
        headers=bearer(token),
    )
    assert with_media.status_code == 422 and "images" in with_media.json()["error"]


async def test_hidden_totals_show_only_after_the_end(clocked_client, clock):
    # Given a poll whose totals are hidden, and a vote in it from the florist
    _owner, token = await business_with_token(clocked_client)
    status = await _poll_post(
        clocked_client, token, options=["a", "b"], expires_in=300, hide_totals=True
    )
    _florist, florist = await business_with_token(clocked_client, "florist")
    poll_id = status["poll"]["id"]
    await clocked_client.post(
        f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}, headers=bearer(florist)
    )
    # When it is read before and after the end
    before = (await clocked_client.get(f"/api/v1/polls/{poll_id}")).json()
    clock.advance(timedelta(minutes=6))
    after = (await clocked_client.get(f"/api/v1/polls/{poll_id}")).json()
    # Then each option's count is null until it ended, the total always given
    assert [o["votes_count"] for o in before["options"]] == [None, None]
    assert before["votes_count"] == 1
    assert [o["votes_count"] for o in after["options"]] == [1, 0]


async def test_votes_need_a_poll_the_token_may_see_and_the_right_scope(app_client):
    # Given a poll and a read-only token of another business
    _owner, token = await business_with_token(app_client)
    status = await _poll_post(app_client, token, options=["a", "b"])
    florist_owner, reader = await business_with_token(app_client, "florist", scopes="read")
    poll_id = status["poll"]["id"]
    # Then voting is 403, an unknown poll 404, a bad choice 422
    forbidden = await app_client.post(
        f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]}, headers=bearer(reader)
    )
    assert forbidden.status_code == 403 and "error" in forbidden.json()
    missing = await app_client.get("/api/v1/polls/123", headers=bearer(token))
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}
    writer = await token_for(app_client, florist_owner, business="florist")
    bad = await app_client.post(
        f"/api/v1/polls/{poll_id}/votes", json={"choices": [7]}, headers=bearer(writer)
    )
    assert bad.status_code == 422
    plain = await app_client.post(
        "/api/v1/statuses", json={"status": "No poll"}, headers=bearer(token)
    )
    no_poll = await app_client.get(f"/api/v1/polls/{plain.json()['id']}", headers=bearer(token))
    assert no_poll.status_code == 404


async def test_a_vote_after_the_end_is_422(clocked_client, clock):
    # Given a five-minute poll of the bakery, and the florist
    _owner, token = await business_with_token(clocked_client)
    status = await _poll_post(clocked_client, token, options=["a", "b"], expires_in=300)
    _florist, florist = await business_with_token(clocked_client, "florist")
    # When the florist votes six minutes later
    clock.advance(timedelta(minutes=6))
    late = await clocked_client.post(
        f"/api/v1/polls/{status['poll']['id']}/votes",
        json={"choices": [0]},
        headers=bearer(florist),
    )
    # Then it is refused, and the poll reads as expired
    assert late.status_code == 422 and "ended" in late.json()["error"]
    read = await clocked_client.get(f"/api/v1/polls/{status['poll']['id']}")
    assert read.json()["expired"] is True
