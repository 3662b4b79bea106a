"""Who is looking at an app page, and what they may reach.

``signed_in`` answers every app page: the person behind the session cookie, or a redirect to
the sign-in page that comes back here afterwards. ``business_of`` gives the business named in
the path only to its own people and the instance admin: anyone else gets the same 404 as for
a business that does not exist. ``admin_only`` does the same for the admin pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request

from fedi_town.api.auth import Caller
from fedi_town.errors import FediTownError, NotFound
from fedi_town.protocol.usernames import is_username
from fedi_town.services import Services
from fedi_town.store import businesses
from fedi_town.store.businesses import Business
from fedi_town.store.people import Person, WebSession
from fedi_town.webapp import sessions


class Redirect(FediTownError):
    """Answer with 303 See Other to ``url`` (app.py turns it into the response)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


@dataclass(frozen=True)
class Visitor:
    """A signed-in person on an app page, with the token every form must carry."""

    person: Person
    session: WebSession
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        return self.person.is_admin

    def caller(self, business: Business | None) -> Caller:
        """What the admin API sees for this person's in-process calls."""
        return Caller(
            is_admin=self.is_admin,
            business=business if not self.is_admin else None,
            person_id=self.person.id,
            role=self.person.role,
        )


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _back_here(request: Request) -> str:
    path = request.url.path
    if request.url.query and request.method == "GET":
        path += "?" + request.url.query
    return "/login?next=" + quote(path, safe="/")


async def signed_in(request: Request) -> Visitor:
    """The signed-in visitor, or ``Redirect`` to the sign-in page."""
    found = await sessions.current(request, services_of(request))
    if found is None:
        raise Redirect(_back_here(request))
    session, person, secret = found
    return Visitor(person, session, sessions.csrf_for(secret))


async def business_of(request: Request, visitor: Visitor) -> Business:
    """The business in the path, if this visitor works there (or is the admin)."""
    username = str(request.path_params.get("username", ""))
    business = None
    if is_username(username):
        business = await businesses.by_username(services_of(request).store, username)
    allowed = business is not None and (
        visitor.is_admin or business.id == visitor.person.business_id
    )
    if (
        business is None
        or not allowed
        or business.kind != "business"
        or business.deleted_at is not None
    ):
        raise NotFound("There is no business here for you.")
    return business


def admin_only(visitor: Visitor) -> None:
    if not visitor.is_admin:
        raise NotFound("There is no page at this address.")


async def home_url(request: Request, visitor: Visitor) -> str:
    """Where ``/app`` takes this person: their business, or the admin's overview."""
    if visitor.is_admin or visitor.person.business_id is None:
        return "/app/admin"
    business = await businesses.by_id(services_of(request).store, visitor.person.business_id)
    if business is None or business.deleted_at is not None:
        return "/app/account"
    return f"/app/{business.username}"
