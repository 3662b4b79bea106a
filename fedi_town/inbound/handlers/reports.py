"""Flag: a report forwarded by another server's moderators (interop §4).

``object`` lists the reported actors and posts. Each business named (directly, or as the
author of a named post) gets the report and a notification; the admin sees every report.
"""

from __future__ import annotations

from fedi_town.inbound.context import Inbound
from fedi_town.protocol.reading import as_list, id_of, text_of
from fedi_town.store import moderation, notifications

_MAX_CONTENT = 5000
_MAX_OBJECTS = 100


async def on_flag(ctx: Inbound) -> str:
    activity_uri = id_of(ctx.activity)
    assert activity_uri is not None
    objects = [uri for item in as_list(ctx.object) if (uri := id_of(item))][:_MAX_OBJECTS]
    business_ids: list[int] = []
    for uri in objects:
        business = await ctx.business_at(uri)
        if business is None:
            post = await ctx.post_at(uri)
            business_id = post.business_id if post is not None else None
        else:
            business_id = business.id
        if business_id is not None and business_id not in business_ids:
            business_ids.append(business_id)
    actor = await ctx.actor()
    content = text_of(ctx.activity.get("content"))[:_MAX_CONTENT]
    async with ctx.store.transaction():
        report_id = await moderation.add_report(
            ctx.store,
            activity_uri=activity_uri,
            actor_uri=ctx.actor_uri,
            content=content,
            object_uris=objects,
            business_ids=business_ids,
            now=ctx.services.now_ms(),
        )
        if report_id is None:
            return "repeated report"
        for business_id in business_ids:
            await notifications.notify(
                ctx.store,
                business_id=business_id,
                type="report",
                dedupe_key=f"report:{report_id}:{business_id}",
                actor_id=actor.id,
                report_id=report_id,
                now=ctx.services.now_ms(),
            )
    return f"report stored for {len(business_ids)} business(es)"
