"""Answering app pages: render a template, redirect after a form, read a form safely.

App pages are private and change with every action: ``Cache-Control: no-store``, and a
Content-Security-Policy that allows our own scripts (``static/*.js``: small progressive
enhancements such as passkeys) and nothing inline. After a successful POST the answer is
303 See Other (reload never posts twice), with a one-time sentence in a short cookie
("Posted.") that the next page shows.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from fedi_town.errors import Forbidden, PayloadTooLarge, ProblemError
from fedi_town.read.templates import environment
from fedi_town.web import check_declared_length
from fedi_town.webapp import sessions
from fedi_town.webapp.guard import Visitor, services_of

APP_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data: blob:; style-src 'self'; "
        "script-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
FLASH_COOKIE = "ftown_flash"
#: A form with photos: up to four of ``api.media.MAX_FILE_BYTES`` and the text.
MAX_FORM_BYTES = 4 * 10 * 1024 * 1024 + 256 * 1024
MAX_FILES = 8  # the compose page says "at most 4 photos" itself


def _flash(request: Request) -> str | None:
    value = request.cookies.get(FLASH_COOKIE)
    return unquote(value)[:300] if value else None


def html(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    """Render an app template (signed in or not) with the instance facts and the flash."""
    services = services_of(request)
    flash = _flash(request)
    values = {
        "instance_name": services.settings.instance_name,
        "urls": services.urls,
        "flash": flash,
        "visitor": None,
        "business": None,
        "errors": {},
        "request_path": request.url.path,
        **context,
    }
    body = environment().get_template(template).render(values)
    response = HTMLResponse(body, status, headers=APP_HEADERS)
    if flash is not None:
        sessions.clear_cookie(response, services.settings, FLASH_COOKIE)
    return response


def page(
    request: Request,
    visitor: Visitor,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render an app page for a signed-in visitor (nav, CSRF token, flash)."""
    return html(
        request,
        template,
        {"visitor": visitor, "csrf_token": visitor.csrf_token, **context},
        status=status,
    )


def see_other(request: Request, url: str, flash: str | None = None) -> Response:
    """303 to ``url`` (a path on this site), with a sentence for the next page."""
    if not url.startswith("/") or url.startswith("//"):
        url = "/app"
    response = RedirectResponse(url, 303, headers={"Cache-Control": "no-store"})
    if flash:
        sessions.set_cookie(
            response, services_of(request).settings, FLASH_COOKIE, quote(flash[:300]), 60
        )
    return response


async def parse_form(request: Request) -> FormData:
    """The posted form, within size limits (413 past them), from this site only (403)."""
    settings = services_of(request).settings
    if not sessions.same_origin(request, settings):
        raise Forbidden("This form was sent from another site, so it was not accepted.")
    multipart = request.headers.get("content-type", "").startswith("multipart/")
    limit = MAX_FORM_BYTES if multipart else settings.max_body_bytes
    check_declared_length(request.headers.get("content-length"), limit)
    try:
        return await request.form(max_files=MAX_FILES, max_fields=300, max_part_size=64 * 1024)
    except PayloadTooLarge:
        raise
    except Exception as exc:  # a malformed form body: multipart errors have no common base
        raise PayloadTooLarge("This form was too large or not readable.") from exc


async def read_form(request: Request, visitor: Visitor) -> FormData:
    """The posted form of a signed-in visitor, after its CSRF token is checked (403)."""
    form = await parse_form(request)
    token = form.get("csrf")
    if not sessions.token_matches(visitor.csrf_token, token):
        raise Forbidden(
            "This form had expired or did not come from this app. Go back, reload and try again."
        )
    return form


def app_error_page(request: Request, error: ProblemError) -> HTMLResponse:
    """An app page's answer when something is refused: the sentence, and a way back."""
    response = html(
        request,
        "app/message.html",
        {"title": error.title, "message": error.detail, "status": error.status},
        status=error.status,
    )
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(int(retry_after))
    return response
