"""Our own businesses as ``remote_actors`` rows, made from the database, never fetched.

When one business here follows or mentions another, the activities go from inbox to inbox
inside the instance (``outbound.deliver`` hands them over), and the handlers that receive
them keep the sender as they keep any actor: a ``remote_actors`` row that ``follows``,
``following`` and notifications point at. For a business here that row is written from
the business itself, so no handler fetches our own actor over HTTP (on an instance behind
the address guard that fetch is refused, and the activity would be retried in vain).
The keys are not stored: activities handed over inside the instance are not signed.
"""

from __future__ import annotations

from fedi_town.protocol.urls import Urls
from fedi_town.store import actors as store_actors
from fedi_town.store import businesses
from fedi_town.store.actors import ActorProfile, RemoteActor
from fedi_town.store.businesses import Business
from fedi_town.store.db import Store

#: Businesses are ``Organization`` actors (``protocol.documents.actor``).
BUSINESS_TYPE = "Organization"


def username_at(urls: Urls, uri: str) -> str | None:
    """The username in one of our actor ids (``{base}/users/{name}``), else None."""
    prefix = urls.actor("")
    if not uri.startswith(prefix):
        return None
    name = uri[len(prefix) :]
    if not name or any(c in name for c in "/#?"):
        return None
    return name


async def business_at(store: Store, urls: Urls, uri: str) -> Business | None:
    """The live business whose actor id is ``uri``, or None."""
    name = username_at(urls, uri)
    if name is None:
        return None
    business = await businesses.by_username(store, name)
    if business is None or business.deleted_at is not None:
        return None
    return business if urls.actor(business.username) == uri else None


def profile_of(urls: Urls, business: Business) -> ActorProfile:
    """What a peer would store of the business's actor document."""
    name = business.username
    return ActorProfile(
        uri=urls.actor(name),
        type=BUSINESS_TYPE,
        inbox=urls.inbox(name),
        username=name,
        display_name=business.display_name,
        url=urls.profile_page(name),
        shared_inbox=urls.shared_inbox(),
        followers_uri=urls.followers(name),
    )


async def as_actor(store: Store, urls: Urls, business: Business, *, now: int) -> RemoteActor:
    """The business's ``remote_actors`` row, written (or refreshed) from the business."""
    profile = profile_of(urls, business)
    known = await store_actors.recent_by_uri(store, profile.uri)
    if known is not None and known.display_name == profile.display_name and known.gone_at is None:
        return known
    return await store_actors.upsert(store, profile, now=now, replace_keys=False)
