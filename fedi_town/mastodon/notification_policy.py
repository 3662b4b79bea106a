"""Mastodon 4.3's filtered notifications, answered as "nothing is filtered":

    GET   /api/v1/notifications/requests            read:notifications   [] (valid paging)
    GET   /api/v1/notifications/requests/merged     read:notifications   {"merged": true}
    GET   /api/v1/notifications/requests/{id}       read:notifications   404
    POST  /api/v1/notifications/requests/{id}/accept, /dismiss
                                                    write:notifications  404
    POST  /api/v1/notifications/requests/accept, /dismiss (id[])
                                                    write:notifications  {}
    GET   /api/v1/notifications/policy, PATCH       read:/write:notifications (4.3's v1
                                                    shape, ``filter_*`` booleans)
    GET   /api/v2/notifications/policy, PATCH       the same, ``for_*``: accept|filter|drop

fedi-town does not hold notifications back: every one reaches the business's list (a
business wants to hear from strangers: they are its customers), and an account it does
not want to hear from is muted or blocked instead. So the policy is fixed: everything is
``accept``, there are never requests, and a ``PATCH`` is checked (a value other than
Mastodon's is 422, as Mastodon's enum refuses it) and answered with the fixed policy, which
tells the app what is really in force. Apps (Mastodon's own, Ice Cubes, Phanpy) read these
at start and would show an error without them.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.errors import NotFound, Unprocessable
from fedi_town.mastodon import params
from fedi_town.mastodon.auth import Grant, endpoint, json
from fedi_town.protocol.ids import path_id, query_id, query_limit
from fedi_town.services import Services

#: The ``for_*`` keys of the v2 policy, and the values Mastodon takes for each.
POLICY_KEYS = (
    "for_not_following",
    "for_not_followers",
    "for_new_accounts",
    "for_private_mentions",
    "for_limited_accounts",
    "for_bots",
)
POLICY_VALUES = ("accept", "filter", "drop")
#: The v1 (4.3 beta) booleans.
V1_KEYS = (
    "filter_not_following",
    "filter_not_followers",
    "filter_new_accounts",
    "filter_private_mentions",
)
MAX_LIMIT = 80

_SUMMARY = {"pending_requests_count": 0, "pending_notifications_count": 0}


def policy_v2() -> dict[str, Any]:
    """The fixed policy in Mastodon 4.3's v2 shape: everything accepted, nothing pending."""
    return {**dict.fromkeys(POLICY_KEYS, "accept"), "summary": dict(_SUMMARY)}


def policy_v1() -> dict[str, Any]:
    """The fixed policy in the v1 shape: nothing filtered, nothing pending."""
    return {**dict.fromkeys(V1_KEYS, False), "summary": dict(_SUMMARY)}


@endpoint("read:notifications")
async def get_policy_v1(request: Request, grant: Grant | None) -> Response:
    return json(policy_v1())


@endpoint("read:notifications")
async def get_policy_v2(request: Request, grant: Grant | None) -> Response:
    return json(policy_v2())


@endpoint("write:notifications")
async def patch_policy_v1(request: Request, grant: Grant | None) -> Response:
    """Reads the booleans (any word is one, as Rails reads them) and answers the fixed
    policy."""
    services: Services = request.app.state.services
    values = await params.read(request, services.settings.max_body_bytes)
    for key in V1_KEYS:
        params.flag(values, key)
    return json(policy_v1())


@endpoint("write:notifications")
async def patch_policy_v2(request: Request, grant: Grant | None) -> Response:
    """Checks the values (``accept``, ``filter``, ``drop``; else 422) and answers the
    fixed policy."""
    services: Services = request.app.state.services
    values = await params.read(request, services.settings.max_body_bytes)
    for key in POLICY_KEYS:
        given = params.text(values, key)
        if given and given not in POLICY_VALUES:
            raise Unprocessable(f"'{given}' is not a valid {key}")
    return json(policy_v2())


@endpoint("read:notifications")
async def requests(request: Request, grant: Grant | None) -> Response:
    """The requests: none ever (the paging parameters are still checked)."""
    query = params.query(request)
    for name in ("max_id", "since_id", "min_id"):
        query_id(params.text(query, name) or None, name)
    query_limit(params.text(query, "limit") or None, default=40, maximum=MAX_LIMIT)
    return json([])


@endpoint("read:notifications")
async def merged(request: Request, grant: Grant | None) -> Response:
    """Accepted requests are merged: there are none to merge."""
    return json({"merged": True})


@endpoint("read:notifications")
async def one_request(request: Request, grant: Grant | None) -> Response:
    path_id(str(request.path_params["id"]), "notification request")
    raise NotFound("Record not found")


@endpoint("write:notifications")
async def act_on_one(request: Request, grant: Grant | None) -> Response:
    path_id(str(request.path_params["id"]), "notification request")
    raise NotFound("Record not found")


@endpoint("write:notifications")
async def act_on_many(request: Request, grant: Grant | None) -> Response:
    """Accepting or dismissing several requests: none exist, so nothing to do."""
    return json({})


routes = [
    Route("/api/v1/notifications/requests", requests, methods=["GET"]),
    Route("/api/v1/notifications/requests/merged", merged, methods=["GET"]),
    Route("/api/v1/notifications/requests/accept", act_on_many, methods=["POST"]),
    Route("/api/v1/notifications/requests/dismiss", act_on_many, methods=["POST"]),
    Route("/api/v1/notifications/requests/{id}", one_request, methods=["GET"]),
    Route("/api/v1/notifications/requests/{id}/accept", act_on_one, methods=["POST"]),
    Route("/api/v1/notifications/requests/{id}/dismiss", act_on_one, methods=["POST"]),
    Route("/api/v1/notifications/policy", get_policy_v1, methods=["GET"]),
    Route("/api/v1/notifications/policy", patch_policy_v1, methods=["PATCH"]),
    Route("/api/v2/notifications/policy", get_policy_v2, methods=["GET"]),
    Route("/api/v2/notifications/policy", patch_policy_v2, methods=["PATCH"]),
]
