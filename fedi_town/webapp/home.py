"""The business's "Today" page: how the shop looks right now, what came in, and the one-tap
notice ("Closed today", "Sold out") that ends by itself at midnight in the shop's own zone,
the questions waiting for an answer (with "Answer" and "Dealt with") and the week at a glance
(``webapp/relations.py``).

    GET  /app/{username}            today
    POST /app/{username}/notice     action=closed|sold_out|custom (text, until)|clear
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fedi_town.business import hours
from fedi_town.store.businesses import Business
from fedi_town.webapp.client import api_for
from fedi_town.webapp.guard import business_of, services_of, signed_in
from fedi_town.webapp.relations import question
from fedi_town.webapp.render import page, read_form, see_other

#: The one-tap notices and their words on the profile.
QUICK_NOTICES = {
    "closed": "Closed today",
    "sold_out": "Sold out for today. Thank you!",
}


def end_of_today(request: Request, business: Business) -> str:
    """Midnight at the end of today in the business's zone, ISO 8601 with its offset."""
    services = services_of(request)
    zone = hours.business_zone(business, services.settings.timezone)
    today = hours.local_date(services.now_ms(), zone)
    midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
    return midnight.isoformat(timespec="seconds")


def until_text(request: Request, business: Business, until: str | None) -> str:
    """ "midnight", or the local day and time a notice ends ("Tue 14:00")."""
    if not until:
        return ""
    zone = hours.business_zone(business, services_of(request).settings.timezone)
    moment = datetime.fromisoformat(until.replace("Z", "+00:00")).astimezone(zone)
    if moment.hour == 0 and moment.minute == 0:
        return "midnight"
    return f"{moment:%a %H:%M}"


async def today(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    api = api_for(request, visitor, business)
    base = f"/api/v1/businesses/{business.username}"
    view = await api.get(base)
    recent = await api.get(f"{base}/notifications", {"limit": 5})
    requests = await api.get(f"{base}/follow_requests", {"limit": 40})
    week = await api.get(f"{base}/week")
    questions = await api.get(f"{base}/questions", {"limit": 5})
    waiting_for_answer = (questions.data or {}) if questions.ok else {}
    notice = (view.data or {}).get("notice") if view.ok else None
    context: dict[str, Any] = {
        "business": business,
        "notice_until": until_text(request, business, notice.get("until") if notice else None),
        "view": view.data if view.ok else {},
        "recent": (recent.data or {}).get("items", []) if recent.ok else [],
        "waiting": len((requests.data or {}).get("items", [])) if requests.ok else 0,
        "quick_notices": QUICK_NOTICES,
        "week": week.data if week.ok else None,
        "questions": [
            question(request, business, raw) for raw in waiting_for_answer.get("items", [])
        ],
        "questions_total": waiting_for_answer.get("total", 0),
    }
    return page(request, visitor, "app/home.html", context)


async def set_notice(request: Request) -> Response:
    visitor = await signed_in(request)
    business = await business_of(request, visitor)
    form = await read_form(request, visitor)
    action = str(form.get("action", ""))
    notice: dict[str, Any] | None
    if action in QUICK_NOTICES:
        notice = {"text": QUICK_NOTICES[action], "until": end_of_today(request, business)}
        done = f"Your profile now says “{QUICK_NOTICES[action]}” until midnight."
    elif action == "custom":
        text = " ".join(str(form.get("text", "")).split())
        notice = {"text": text, "until": end_of_today(request, business)} if text else None
        done = "Your notice is on your profile until midnight." if text else "Notice cleared."
    else:
        notice = None
        done = "Notice cleared: your profile shows your usual hours again."
    answer = await api_for(request, visitor, business).patch(
        f"/api/v1/businesses/{business.username}", {"notice": notice}
    )
    if not answer.ok:
        return see_other(request, f"/app/{business.username}", answer.detail)
    return see_other(request, f"/app/{business.username}", done)


routes = [
    Route("/app/{username}", today, methods=["GET"]),
    Route("/app/{username}/notice", set_notice, methods=["POST"]),
]
