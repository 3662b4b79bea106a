"""One-tap Like and Boost, and their undo, from wherever the owner reads a post.

    POST /app/{username}/reactions    object: the post's address (or a post's number here)
                                      act: like | unlike | boost | unboost
                                      name: whose post (for the sentence), back: where to return

Used by the buttons under each reply and mention in the Inbox and by its "Like or boost a
post by its address" form. The work is the API's (``/likes``, ``/boosts``, called in
process): a remote post is fetched, the Like or Announce delivered, the Undo likewise. The
owner comes back to the page they were on (a path of this business's app only) with a
sentence saying what happened, or the API's reason in words when it was refused.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.store.businesses import Business
from fedi_town.webapp.client import api_for
from fedi_town.webapp.guard import business_of, signed_in
from fedi_town.webapp.render import read_form, see_other

#: act -> (API collection, taking back?)
ACTS = {
    "like": ("likes", False),
    "unlike": ("likes", True),
    "boost": ("boosts", False),
    "unboost": ("boosts", True),
}
EMPTY = "Paste the address of a post: its link, as your browser shows it."


def _back(business: Business, raw: object) -> str:
    """Where to return: a page of this business's app, else its inbox."""
    home = f"/app/{business.username}"
    if isinstance(raw, str) and (
        raw == home or raw.startswith(home + "/") or raw.startswith(home + "?")
    ):
        if "//" not in raw and "\\" not in raw:
            return raw
    return f"{home}/inbox?{urlencode({'show': 'replies'})}"


def _done(act: str, name: str) -> str:
    whose = f"{name}'s post" if name else "the post"
    return {
        "like": f"You liked {whose}. They are told.",
        "unlike": f"You took back your like of {whose}.",
        "boost": f"You boosted {whose}: your followers see it too.",
        "unboost": f"You took back your boost of {whose}.",
    }[act]


async def react(request: Request) -> Response:
    """Like, boost or take back; back to the page the button was on."""
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    back = _back(business, form.get("back"))
    target = str(form.get("object", "")).strip()
    act = str(form.get("act", ""))
    name = str(form.get("name", "")).strip()[:100]
    if act not in ACTS:
        return see_other(request, back, "Choose Like or Boost.")
    if not target:
        return see_other(request, back, EMPTY)
    collection, taking_back = ACTS[act]
    api = api_for(request, visitor, business)
    path = f"/api/v1/businesses/{business.username}/{collection}"
    if taking_back:
        answer = await api.request("DELETE", path, params={"object": target})
        if answer.status == 404:  # already taken back (a second tap): the outcome is the same
            return see_other(request, back, _done(act, name))
    else:
        answer = await api.post(path, {"object": target})
        if answer.status == 409:
            already = "liked" if act == "like" else "boosted"
            return see_other(request, back, f"You already {already} that post.")
    if answer.ok:
        return see_other(request, back, _done(act, name))
    message = answer.field_errors.get("object") or answer.detail
    return see_other(request, back, message or "That did not work. Try again.")


routes = [Route("/app/{username}/reactions", react, methods=["POST"])]
