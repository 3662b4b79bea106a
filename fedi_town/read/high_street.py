"""The front page's high street: member businesses searched, filtered and grouped by category.

Who is listed is ``store.directory.is_member`` (live, in the directory, discoverable). The
query string narrows the list, each parameter one filter applied in turn:

    q=bread          the words, case-insensitively, in the name, handle, bio or category
    category=Bakery  one category (``Other``: businesses that name none)
    open=1           open now, in each business's own zone (``fedi_town.business.hours``)

Groups are headed by a category's label (``category_label``), alphabetically, with the
businesses that name no category last, under "Other".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from fedi_town.business.categories import label
from fedi_town.business.hours import Schedule, Status, status_at
from fedi_town.store.businesses import Business

#: The heading (and ``category=`` value) of businesses that name no category.
OTHER = "Other"
#: A search longer than this is cut (nothing is that long, and each business is read once).
MAX_QUERY = 100

T = TypeVar("T")
Filter = Callable[[Business], bool]


def category_label(category: str | None) -> str:
    """A category's heading: its label for people ("CafeOrCoffeeShop" → "Café"), the
    stored name if it is no longer known, "Other" for none."""
    if not category:
        return OTHER
    return label(category) or category


@dataclass(frozen=True)
class Query:
    """What a visitor asked the front page for."""

    text: str = ""
    category: str | None = None
    open_now: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Query:
        text = " ".join(str(params.get("q", "")).split())[:MAX_QUERY]
        category = " ".join(str(params.get("category", "")).split())[:MAX_QUERY]
        open_now = str(params.get("open", "")).strip().lower() in {"1", "true", "on", "yes"}
        return cls(text=text, category=category or None, open_now=open_now)

    @property
    def narrowed(self) -> bool:
        return bool(self.text or self.category or self.open_now)


def _haystack(business: Business, handle: str) -> str:
    parts = [business.display_name, business.username, handle, business.summary]
    if business.category:
        parts += [business.category, category_label(business.category)]
    return "\n".join(parts).casefold()


def search(text: str, handle_of: Callable[[Business], str]) -> Filter:
    """Every word of ``text`` somewhere in the business's name, handle, bio or category."""
    words = text.casefold().split()

    def matches(business: Business) -> bool:
        haystack = _haystack(business, handle_of(business))
        return all(word in haystack for word in words)

    return matches


def in_category(category: str) -> Filter:
    wanted = category.casefold()
    return lambda business: (
        category_label(business.category).casefold() == wanted
        or (business.category is not None and business.category.casefold() == wanted)
    )


def status(business: Business, now: int, default_zone: str) -> Status | None:
    """Open or closed at ``now`` in the business's zone; None when it gave no hours."""
    return status_at(Schedule.from_business(business, default_zone), now)


def open_at(now: int, default_zone: str) -> Filter:
    """Open at ``now``; a business that gave no hours is not known to be open."""

    def is_open(business: Business) -> bool:
        found = status(business, now, default_zone)
        return found is not None and found.open

    return is_open


def filters(
    query: Query, handle_of: Callable[[Business], str], now: int, default_zone: str
) -> list[Filter]:
    """The filters ``query`` asks for, in the order they are applied."""
    found: list[Filter] = []
    if query.text:
        found.append(search(query.text, handle_of))
    if query.category:
        found.append(in_category(query.category))
    if query.open_now:
        found.append(open_at(now, default_zone))
    return found


def narrow(members: list[Business], chosen: list[Filter]) -> list[Business]:
    return [b for b in members if all(keep(b) for keep in chosen)]


@dataclass(frozen=True)
class Group(Generic[T]):
    """One category's heading and its entries."""

    label: str
    value: str  # what ``category=`` takes to show this group alone
    items: list[T]


def grouped(items: list[tuple[str | None, T]]) -> list[Group[T]]:
    """``(category, item)`` pairs as groups sorted by label, "Other" last; items keep order."""
    groups: dict[str, Group[T]] = {}
    for category, item in items:
        label = category_label(category)
        group = groups.setdefault(label, Group(label, category or OTHER, []))
        group.items.append(item)
    return sorted(groups.values(), key=lambda g: (g.label == OTHER, g.label.casefold()))


def categories(members: list[Business]) -> list[Group[None]]:
    """Every category the members name, as (label, value) for the filter's choices."""
    return grouped([(b.category, None) for b in members])
