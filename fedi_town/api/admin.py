"""The instance admin's moderation of what comes in: domain blocks and every report.

Paths (admin token; described in schemas/admin-api.openapi.yaml):
    GET    /api/v1/admin/domain_blocks
    POST   /api/v1/admin/domain_blocks        {domain}: follows from it end, its queued
                                              activities are dropped, it is refused (403)
    DELETE /api/v1/admin/domain_blocks/{id}
    GET    /api/v1/admin/reports
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.api import views
from fedi_town.api.auth import require_admin
from fedi_town.api.owner import normalise_domain
from fedi_town.errors import NotFound
from fedi_town.protocol.ids import path_id
from fedi_town.schemas import validate
from fedi_town.services import Services
from fedi_town.store import following as following_store
from fedi_town.store import inbox as inbox_store
from fedi_town.store import moderation, social
from fedi_town.store.effects import FollowersChanged
from fedi_town.web import json_response, read_json

log = logging.getLogger(__name__)


async def _admin(request: Request) -> Services:
    services: Services = request.app.state.services
    await require_admin(request, services)
    return services


async def list_domain_blocks(request: Request) -> Response:
    services = await _admin(request)
    limit, max_id = views.page_params(request)
    blocks = await moderation.list_blocks(
        services.store, business_id=None, limit=limit, max_id=max_id
    )
    items = [views.block(b) for b in blocks if b.domain is not None]
    return json_response({"items": items, "next_max_id": views.next_max_id(items, limit)})


async def create_domain_block(request: Request) -> Response:
    services = await _admin(request)
    data = await read_json(request, services.settings.max_body_bytes)
    validate("domain-block-create", data)
    domain = normalise_domain(data["domain"])
    store = services.store
    async with store.transaction():
        block, created = await moderation.add_block(
            store, business_id=None, actor_uri=None, domain=domain, now=services.now_ms()
        )
        removed = await social.follows_from(store, business_id=None, domain=domain)
        for follow, _ in removed:
            await social.delete_follow(store, follow.id)
        # the businesses' follows of them end too, silently, as theirs of the businesses do
        for followed, _ in await following_store.matching(store, business_id=None, domain=domain):
            await following_store.delete(store, followed.id)
        await inbox_store.cancel_from_domain(store, domain)
    moderation.blocks_changed(store)  # committed: no check may keep the list from before
    services.store.after_commit(FollowersChanged())
    log.info("admin blocked domain %s (%d follow(s) removed)", domain, len(removed))
    return json_response(views.block(block), 201 if created else 200)


async def delete_domain_block(request: Request) -> Response:
    services = await _admin(request)
    block_id = path_id(request.path_params["id"], "domain block")
    if not await moderation.delete_block(services.store, business_id=None, block_id=block_id):
        raise NotFound("no such domain block")
    return Response(status_code=204)


async def list_reports(request: Request) -> Response:
    services = await _admin(request)
    limit, max_id = views.page_params(request)
    reports = await moderation.list_reports(
        services.store, business_id=None, limit=limit, max_id=max_id
    )
    items = [
        views.report(r, await moderation.report_targets(services.store, r.id)) for r in reports
    ]
    return json_response({"items": items, "next_max_id": views.next_max_id(items, limit)})


routes = [
    Route("/api/v1/admin/domain_blocks", list_domain_blocks, methods=["GET"]),
    Route("/api/v1/admin/domain_blocks", create_domain_block, methods=["POST"]),
    Route("/api/v1/admin/domain_blocks/{id}", delete_domain_block, methods=["DELETE"]),
    Route("/api/v1/admin/reports", list_reports, methods=["GET"]),
]
