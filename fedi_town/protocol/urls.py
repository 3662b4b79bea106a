"""Every public URL fedi-town mints, in one place, so ids stay byte-for-byte stable.

Mastodon compares ids as strings (interop F4): never add a trailing slash or change case of a
URL once it has been published. Usernames keep the case the owner chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

#: The instance actor's username: passes Mastodon's username rule and WebFinger round trip.
INSTANCE_ACTOR_USERNAME = "instance.actor"

#: Usernames a business cannot take (routes, the instance actor, confusing names).
RESERVED_USERNAMES = frozenset(
    {
        INSTANCE_ACTOR_USERNAME,
        "actor",
        "admin",
        "administrator",
        "api",
        "inbox",
        "instance",
        "media",
        "nodeinfo",
        "root",
        "static",
        "support",
        "users",
        "well-known",
        "webmaster",
        "postmaster",
        "abuse",
        "security",
    }
)


#: The fragment of every actor's key id: ``<actor>#main-key``, as Mastodon names it.
KEY_FRAGMENT = "main-key"


@dataclass(frozen=True)
class Urls:
    """URL builder for one instance, from its public base URL (scheme://host[:port])."""

    base: str

    @property
    def domain(self) -> str:
        return urlsplit(self.base).netloc

    # the instance
    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    def instance_key_id(self) -> str:
        return f"{self.instance_actor()}#{KEY_FRAGMENT}"

    def key_fragment_served_at(self, path: str) -> str | None:
        """The fragment of the key id whose document is served at ``path`` (our URL path,
        as received), or None: an actor's path serves its ``#main-key``."""
        if path == "/actor":
            return KEY_FRAGMENT
        head, _, username = path.rpartition("/")
        return KEY_FRAGMENT if head == "/users" and username else None

    def instance_actor_inbox(self) -> str:
        return f"{self.base}/actor/inbox"

    def front_page(self) -> str:
        return f"{self.base}/"

    def instance_outbox(self) -> str:
        return f"{self.base}/actor/outbox"

    # a business
    def actor(self, username: str) -> str:
        return f"{self.base}/users/{username}"

    def key_id(self, username: str) -> str:
        return f"{self.actor(username)}#{KEY_FRAGMENT}"

    def inbox(self, username: str) -> str:
        return f"{self.actor(username)}/inbox"

    def outbox(self, username: str) -> str:
        return f"{self.actor(username)}/outbox"

    def followers(self, username: str) -> str:
        return f"{self.actor(username)}/followers"

    def following(self, username: str) -> str:
        return f"{self.actor(username)}/following"

    def featured(self, username: str) -> str:
        return f"{self.actor(username)}/collections/featured"

    def featured_tags(self, username: str) -> str:
        return f"{self.actor(username)}/collections/tags"

    def profile_page(self, username: str) -> str:
        return f"{self.base}/@{username}"

    def remote_follow(self, username: str) -> str:
        """The form that sends a visitor to their own server to follow this business."""
        return f"{self.profile_page(username)}/follow"

    def handle(self, username: str) -> str:
        return f"@{username}@{self.domain}"

    def acct(self, username: str) -> str:
        return f"acct:{username}@{self.domain}"

    # a post
    def post(self, username: str, post_id: int) -> str:
        return f"{self.actor(username)}/statuses/{post_id}"

    def post_activity(self, username: str, post_id: int) -> str:
        return f"{self.post(username, post_id)}/activity"

    def post_page(self, username: str, post_id: int) -> str:
        return f"{self.profile_page(username)}/{post_id}"

    def post_replies(self, username: str, post_id: int) -> str:
        return f"{self.post(username, post_id)}/replies"

    def post_likes(self, username: str, post_id: int) -> str:
        return f"{self.post(username, post_id)}/likes"

    def post_shares(self, username: str, post_id: int) -> str:
        return f"{self.post(username, post_id)}/shares"

    def quote_stamp(self, username: str, post_id: int, stamp_id: int) -> str:
        """A ``QuoteAuthorization``: the business lets one post quote this one (FEP-044f)."""
        return f"{self.post(username, post_id)}/quotes/{stamp_id}"

    def tag_page(self, username: str, tag: str) -> str:
        return f"{self.profile_page(username)}/tagged/{quote(tag.lower(), safe='')}"

    # offers, events, feeds and the shop-window poster (issue #13)
    def offer(self, username: str, offer_id: int) -> str:
        """An offer's id; it is published to followers as a Note (``post``)."""
        return f"{self.actor(username)}/offers/{offer_id}"

    def offer_page(self, username: str, offer_id: int) -> str:
        return f"{self.profile_page(username)}/offers/{offer_id}"

    def event(self, username: str, event_id: int) -> str:
        """An event's id: serves an AS2 ``Event`` (FEP-8a8e) to peers that ask for it."""
        return f"{self.actor(username)}/events/{event_id}"

    def event_page(self, username: str, event_id: int) -> str:
        return f"{self.profile_page(username)}/events/{event_id}"

    def event_ics(self, username: str, event_id: int) -> str:
        return f"{self.event_page(username, event_id)}.ics"

    def calendar_ics(self, username: str) -> str:
        """Every upcoming event of a business, as one iCalendar file."""
        return f"{self.profile_page(username)}/events.ics"

    def feed_atom(self, username: str) -> str:
        return f"{self.profile_page(username)}/feed.atom"

    def feed_rss(self, username: str) -> str:
        return f"{self.profile_page(username)}/feed.rss"

    def poster(self, username: str) -> str:
        """The printable "Follow us" page for the shop window."""
        return f"{self.profile_page(username)}/poster"

    def poster_svg(self, username: str) -> str:
        return f"{self.poster(username)}.svg"

    def announce(self, username: str, post_id: int) -> str:
        """The directory ``username``'s boost of post ``post_id`` (one per post, so stable)."""
        return f"{self.actor(username)}#announces/{post_id}"

    def boost(self, username: str, given_id: int) -> str:
        """A business's boost (Announce) of any post, served there (``read.boosts``)."""
        return f"{self.actor(username)}/boosts/{given_id}"

    def activity(self, username: str, activity_id: int) -> str:
        """An activity that is not tied to one post (Accept, Update of the actor, ...)."""
        return f"{self.actor(username)}#activities/{activity_id}"

    def media(self, filename: str) -> str:
        return f"{self.base}/media/{filename}"

    def webfinger(self) -> str:
        return f"{self.base}/.well-known/webfinger"

    # discovery and paging
    def webfinger_template(self) -> str:
        """The lrdd template of host-meta (``{uri}`` is filled in by the client)."""
        return f"{self.webfinger()}?resource={{uri}}"

    def nodeinfo(self, version: str) -> str:
        return f"{self.base}/nodeinfo/{version}"

    @staticmethod
    def collection_page(collection: str, page: int) -> str:
        """Page ``page`` (1-based) of a collection, under the collection's own URL."""
        return f"{collection}?page={page}"

    @staticmethod
    def authorize_interaction(host: str, uri: str) -> str:
        """Another server's remote-interaction page (Mastodon, GoToSocial) for ``uri``.

        ``host`` must already be a validated hostname[:port]; never pass user text here.
        """
        return f"https://{host}/authorize_interaction?uri={quote(uri, safe='')}"
