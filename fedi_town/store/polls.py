"""Queries on the polls of a business's posts and the votes they received.

A poll belongs to one post (``polls.post_id``); each vote is one row per voter and option
chosen, keyed by the vote Note's id so a redelivered vote counts once. Counts are computed
from the votes, never kept apart. An ``Update{Question}`` with the new counts goes out at
most once a minute per poll (``changed_at``/``sent_at``, ``outbound/polls.py``), and once
more when it closes (``closed_sent``).

    insert(store, post_id, ...)             the poll of a new post
    of_posts(store, post_ids)               {post_id: Poll} with counts
    add_vote(store, post_id, ...)           one option chosen by one voter; False if kept before
    voted(store, post_id, voter_uri)        the options one voter chose
    due_updates(store, now, every_ms)       polls whose counts (or close) should go out
    mark_sent(store, post_id, now, closed)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from fedi_town.store.db import Store, new_id


@dataclass(frozen=True)
class Poll:
    post_id: int
    business_id: int
    options: list[str]
    multiple: bool
    hide_totals: bool
    expires_at: int
    #: votes per option, in the options' order
    counts: list[int] = field(default_factory=list)
    voters: int = 0
    #: its closing Update went out (the Question says ``closed`` from then on)
    closed_sent: bool = False

    def closed(self, now: int) -> bool:
        return now >= self.expires_at


async def insert(
    store: Store,
    *,
    post_id: int,
    business_id: int,
    options: Sequence[str],
    multiple: bool,
    hide_totals: bool,
    expires_at: int,
    now: int,
) -> Poll:
    await store.execute(
        "INSERT INTO polls (post_id, business_id, options, multiple, hide_totals, expires_at, "
        "created_at) VALUES (:p, :b, :o, :m, :h, :e, :now)",
        {
            "p": post_id,
            "b": business_id,
            "o": json.dumps(list(options)),
            "m": multiple,
            "h": hide_totals,
            "e": expires_at,
            "now": now,
        },
    )
    return Poll(
        post_id, business_id, list(options), multiple, hide_totals, expires_at, [0] * len(options)
    )


async def of_posts(store: Store, post_ids: Sequence[int]) -> dict[int, Poll]:
    """The polls of those posts that have one, with their counts."""
    if not post_ids:
        return {}
    names = {f"p{i}": pid for i, pid in enumerate(post_ids)}
    listed = ", ".join(f":{n}" for n in names)
    # (only placeholders are formatted in)
    rows = await store.fetch_all(
        "SELECT post_id, business_id, options, multiple, hide_totals, expires_at, "  # noqa: S608
        "closed_sent "
        f"FROM polls WHERE post_id IN ({listed})",
        names,
    )
    if not rows:
        return {}
    # Votes per option and voters in one statement, so both come from one snapshot: as two
    # reads, a vote committed between them showed a voter without their vote.
    counted = await store.fetch_all(
        "SELECT post_id, choice, COUNT(*) AS n FROM poll_votes "  # noqa: S608
        f"WHERE post_id IN ({listed}) GROUP BY post_id, choice "
        "UNION ALL SELECT post_id, NULL AS choice, COUNT(DISTINCT voter_uri) AS n "
        f"FROM poll_votes WHERE post_id IN ({listed}) GROUP BY post_id",
        names,
    )
    by_choice: dict[tuple[int, int], int] = {
        (int(t["post_id"]), int(t["choice"])): int(t["n"])
        for t in counted
        if t["choice"] is not None
    }
    by_post = {int(v["post_id"]): int(v["n"]) for v in counted if v["choice"] is None}
    found = {}
    for row in rows:
        post_id = int(row["post_id"])
        options = [str(o) for o in json.loads(row["options"])]
        found[post_id] = Poll(
            post_id=post_id,
            business_id=int(row["business_id"]),
            options=options,
            multiple=bool(row["multiple"]),
            hide_totals=bool(row["hide_totals"]),
            expires_at=int(row["expires_at"]),
            counts=[by_choice.get((post_id, i), 0) for i in range(len(options))],
            voters=by_post.get(post_id, 0),
            closed_sent=bool(row["closed_sent"]),
        )
    return found


async def of_post(store: Store, post_id: int) -> Poll | None:
    return (await of_posts(store, [post_id])).get(post_id)


async def voted(store: Store, post_id: int, voter_uri: str) -> list[int]:
    """The options (indexes) ``voter_uri`` chose, in order."""
    rows = await store.fetch_all(
        "SELECT choice FROM poll_votes WHERE post_id = :p AND voter_uri = :v ORDER BY choice",
        {"p": post_id, "v": voter_uri},
    )
    return [int(r["choice"]) for r in rows]


async def add_vote(
    store: Store, *, post_id: int, voter_uri: str, choice: int, vote_uri: str, now: int
) -> bool:
    """Keep one choice; False (nothing written) if this vote or this choice was kept."""
    inserted = await store.write(
        "INSERT INTO poll_votes (id, post_id, voter_uri, choice, vote_uri, created_at) "
        "VALUES (:id, :p, :v, :c, :u, :now) ON CONFLICT DO NOTHING RETURNING id",
        {"id": new_id(now), "p": post_id, "v": voter_uri, "c": choice, "u": vote_uri, "now": now},
    )
    if not inserted:
        return False
    await store.execute(
        "UPDATE polls SET changed_at = :now WHERE post_id = :p AND changed_at IS NULL",
        {"p": post_id, "now": now},
    )
    return True


async def due_updates(store: Store, now: int, every_ms: int) -> list[int]:
    """Post ids of polls whose new counts may go out (a vote came, and the last Update is
    at least ``every_ms`` old) or that closed without their closing Update yet."""
    rows = await store.fetch_all(
        "SELECT post_id FROM polls WHERE (changed_at IS NOT NULL "
        "AND (sent_at IS NULL OR sent_at <= :since)) "
        "OR (expires_at <= :now AND NOT closed_sent) ORDER BY post_id LIMIT 100",
        {"now": now, "since": now - every_ms},
    )
    return [int(r["post_id"]) for r in rows]


async def mark_sent(store: Store, post_id: int, *, now: int, closed: bool) -> None:
    """The Update went out: counts up to ``now`` are told (and the close, if ``closed``)."""
    await store.execute(
        "UPDATE polls SET changed_at = NULL, sent_at = :now, "
        "closed_sent = closed_sent OR :closed WHERE post_id = :p",
        {"p": post_id, "now": now, "closed": closed},
    )


async def voter_uris(store: Store, post_id: int) -> list[str]:
    """Everyone who voted in the poll of ``post_id``."""
    rows = await store.fetch_all(
        "SELECT DISTINCT voter_uri FROM poll_votes WHERE post_id = :p ORDER BY voter_uri",
        {"p": post_id},
    )
    return [str(r["voter_uri"]) for r in rows]


# -- the business's own votes in polls elsewhere ----------------------------------------------


async def given_votes(store: Store, business_id: int, note_id: int) -> list[int]:
    """The options (indexes) the business chose in the poll of a remote note."""
    rows = await store.fetch_all(
        "SELECT choice FROM poll_votes_given WHERE business_id = :b AND note_id = :n "
        "ORDER BY choice",
        {"b": business_id, "n": note_id},
    )
    return [int(r["choice"]) for r in rows]


async def give_vote(
    store: Store, *, business_id: int, note_id: int, choice: int, vote_uri: str, now: int
) -> None:
    """Keep one option the business chose in a poll elsewhere."""
    await store.execute(
        "INSERT INTO poll_votes_given (id, business_id, note_id, choice, vote_uri, created_at) "
        "VALUES (:id, :b, :n, :c, :u, :now)",
        {"id": new_id(now), "b": business_id, "n": note_id, "c": choice, "u": vote_uri, "now": now},
    )
