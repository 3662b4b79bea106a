"""The outbound side's admin API routes (posts and media), collected for ``app.all_routes``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from fedi_town.outbound import media_api, posts_api

routes: list[BaseRoute] = [*posts_api.routes, *media_api.routes]
