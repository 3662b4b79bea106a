"""Fetch a received note's custom emoji once, into the media store, for the owner's views.

Done by the inbox worker right after the note is stored (not at first view): the owner's
pages never wait on another server nor make one fetch during a request, the images are in
place by the time the owner looks, and each icon URL is fetched once (``remote_emojis``
remembers what came of it, kept or refused), whoever's note names it next. A passing
failure (no answer, a 5xx or 429) is not remembered: the next note naming it tries again.

Each fetch goes through the guarded client (remote/: a private or loopback address is
refused before any connection, unless the instance allows them for testing), with at most
``MAX_EMOJI_BYTES``; the bytes must be a PNG, GIF, WebP or JPEG of at most 512 x 512
(media/images.py: sniffed, decoded in a worker thread, never SVG). An emoji refused for any
reason stays as its ``:shortcode:`` text. A note names at most 50 (protocol/note_parts.py);
all of a note's fetches share one deadline, ``BUDGET_S``: those not done by then are left
for the next note that names them.

A remote actor's name may show custom emoji too (``remote_actors.emojis``, read when the
actor is stored): ``cache_actor_emojis`` runs after each inbox item of that actor is
handled, fetches the icons its name needs that no note fetched before, and writes what came
of each onto the actor (``emoji_paths``), so pages render the name without a lookup. It does
nothing (no query) once every icon of the name has an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anyio
import anyio.to_thread

from fedi_town.errors import FediTownError
from fedi_town.media.storage import MediaUnavailable
from fedi_town.protocol.note_parts import EmojiTag
from fedi_town.remote.errors import (
    FetchFailed,
    ForbiddenAddress,
    RemoteUnreachable,
    ResponseTooLarge,
)
from fedi_town.remote.http import check_online
from fedi_town.services import Services
from fedi_town.store import actors as store_actors
from fedi_town.store import emojis as store_emojis
from fedi_town.store.emojis import CachedEmoji

log = logging.getLogger(__name__)

MAX_EMOJI_BYTES = 256 * 1024
BUDGET_S = 30.0
#: Fetches of one note at once.
PARALLEL = 4


async def cache_emojis(services: Services, tags: Sequence[EmojiTag]) -> int:
    """Fetch the icons of ``tags`` not seen before; how many were fetched and kept."""
    if services.remote is None or not tags:
        return 0
    wanted = {store_emojis.digest_of(t.url): t.url for t in tags}
    seen = await store_emojis.known(services.store, list(wanted))
    todo = [(d, url) for d, url in wanted.items() if d not in seen]
    if todo:
        check_online(todo[0][1])  # in a group (``worker``): handled alone instead
    kept = 0
    limiter = anyio.Semaphore(PARALLEL)

    async def one(digest: str, url: str) -> None:
        nonlocal kept
        async with limiter:
            outcome = await _fetch_one(services, digest, url)
        if outcome is None:
            return
        await store_emojis.record(services.store, outcome, services.now_ms())
        kept += outcome.state == "ok"

    with anyio.move_on_after(BUDGET_S):
        async with anyio.create_task_group() as group:
            for digest, url in todo:
                group.start_soon(one, digest, url)
    return kept


async def cache_actor_emojis(services: Services, actor_uri: str) -> int:
    """Fetch the icons of the actor's name not answered for yet, and note on the actor what
    came of each (a path, or ``""`` when refused); how many were fetched and kept."""
    actor = await store_actors.recent_by_uri(services.store, actor_uri)
    todo = actor.uncached_emojis() if actor is not None else []
    if not todo:
        return 0
    kept = await cache_emojis(services, todo)
    known = await store_emojis.known(services.store, [store_emojis.digest_of(t.url) for t in todo])
    paths = {
        row.url: f"/proxy/emoji/{row.digest}" if row.state == "ok" else "" for row in known.values()
    }
    if paths:
        await store_actors.set_emoji_paths(services.store, actor_uri, paths)
    return kept


async def _fetch_one(services: Services, digest: str, url: str) -> CachedEmoji | None:
    """What came of fetching ``url``; None when it could not be had for now (no answer, a
    5xx or 429, the media store down), so a later note naming it tries again."""

    def refused(reason: str) -> CachedEmoji:
        log.info("emoji %s not kept: %s", url, reason)
        return CachedEmoji(digest, url, "refused", None, None, None, None, reason)

    try:
        data, _ = await services.started_remote().fetch_image(url, max_bytes=MAX_EMOJI_BYTES)
    except ForbiddenAddress:
        return refused("private address")
    except ResponseTooLarge:
        return refused("too big")
    except RemoteUnreachable:
        log.info("emoji %s not fetched for now: no answer", url)
        return None
    except FetchFailed as exc:
        if exc.status >= 500 or exc.status == 429:
            log.info("emoji %s not fetched for now: HTTP %d", url, exc.status)
            return None
        return refused(f"unreachable ({exc.__class__.__name__})")
    except FediTownError as exc:
        return refused(f"unreachable ({exc.__class__.__name__})")
    from fedi_town.media import images  # deferred: Pillow (2 MB), for a note with custom emoji

    try:
        image = await anyio.to_thread.run_sync(images.check_small_image, data)
    except images.ImageRejected as exc:
        return refused(f"not kept ({exc.__class__.__name__})")
    key = f"emoji/{digest}.{image.suffix}"
    try:
        await services.media.put(key, data, image.media_type)
    except MediaUnavailable:
        log.info("emoji %s not kept for now: the media store is unavailable", url)
        return None
    return CachedEmoji(digest, url, "ok", image.media_type, key, image.width, image.height, None)
