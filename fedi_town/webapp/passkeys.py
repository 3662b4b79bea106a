"""Passkeys (WebAuthn) with Duo's ``webauthn`` library: add one to your account, then sign in
with a fingerprint or face instead of a password.

    POST /app/account/passkeys/options   registration options; the challenge is kept on the
                                         session row (one at a time)
    POST /app/account/passkeys           the browser's answer, checked and stored
    POST /app/account/passkeys/{id}/delete
    POST /login/passkey/options          sign-in options (discoverable credentials: no name
                                         asked); the challenge is a single-use row
    POST /login/passkey                  the browser's answer; signs in (a new session)

The relying party is the instance: its id is ``BASE_URL``'s host, its origin ``BASE_URL``
(browsers allow ``localhost`` over http for tests; an IP address is never a valid id). JSON
requests carry the CSRF token in ``X-CSRF-Token``. A stored credential is the credential id
and the COSE public key (base64url), and the signature counter, which must grow when the
authenticator keeps one.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fedi_town.errors import BadRequest, Forbidden, NotFound
from fedi_town.protocol.ids import path_id
from fedi_town.services import Services
from fedi_town.store import people as people_store
from fedi_town.web import read_body
from fedi_town.webapp import sessions
from fedi_town.webapp.guard import services_of, signed_in
from fedi_town.webapp.render import read_form, see_other
from fedi_town.webapp.signin import safe_next, sign_in

log = logging.getLogger(__name__)

CHALLENGE_TTL_MS = 5 * 60 * 1000
MAX_JSON_BYTES = 64 * 1024


def relying_party(services: Services) -> tuple[str, str]:
    """The WebAuthn relying party id (host) and expected origin of this instance."""
    base = services.settings.base_url
    return urlsplit(base).hostname or "", base


def _json_headers_ok(request: Request, services: Services, expected: str | None) -> None:
    """Refuse a JSON call from another site or without the page's token (``expected``: the
    form token of the session, or of the pre-session before sign-in)."""
    if not sessions.same_origin(request, services.settings):
        raise Forbidden("this request came from another site")
    if not sessions.token_matches(expected, request.headers.get("x-csrf-token")):
        raise Forbidden("the page had expired; reload it and try again")


def _pre_token(request: Request, services: Services) -> str | None:
    secret = request.cookies.get(sessions.pre_cookie(services.settings))
    return sessions.csrf_for(secret) if secret else None


async def _json(request: Request) -> dict[str, Any]:
    body = await read_body(request, MAX_JSON_BYTES)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise BadRequest("the browser's answer was not JSON") from exc
    if not isinstance(data, dict):
        raise BadRequest("the browser's answer was not a JSON object")
    return data


async def registration_options(request: Request) -> Response:
    # webauthn (with cbor2, pyOpenSSL) loads only when someone adds or uses a passkey.
    from webauthn import generate_registration_options, options_to_json  # deferred: passkeys
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url  # deferred: passkeys
    from webauthn.helpers.structs import (  # deferred: passkeys
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    visitor = await signed_in(request)
    services = services_of(request)
    _json_headers_ok(request, services, visitor.csrf_token)
    rp_id, _origin = relying_party(services)
    existing = await people_store.passkeys_of(services.store, visitor.person.id)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=services.settings.instance_name,
        user_id=str(visitor.person.id).encode(),
        user_name=visitor.person.login,
        user_display_name=visitor.person.display_name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id)) for p in existing
        ],
    )
    await people_store.set_session_challenge(
        services.store, visitor.session.id_hash, bytes_to_base64url(options.challenge)
    )
    return Response(options_to_json(options), media_type="application/json")


async def register(request: Request) -> Response:
    from webauthn import verify_registration_response  # deferred: passkeys
    from webauthn.helpers import base64url_to_bytes, bytes_to_base64url  # deferred: passkeys
    from webauthn.helpers.exceptions import WebAuthnException  # deferred: passkeys

    visitor = await signed_in(request)
    services = services_of(request)
    _json_headers_ok(request, services, visitor.csrf_token)
    data = await _json(request)
    challenge = visitor.session.challenge
    if not challenge:
        raise BadRequest("start again: the passkey request had expired")
    await people_store.set_session_challenge(services.store, visitor.session.id_hash, None)
    rp_id, origin = relying_party(services)
    try:
        verified = verify_registration_response(
            credential=data.get("credential") or {},
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        log.info("passkey not added for person %d: %s", visitor.person.id, type(exc).__name__)
        raise BadRequest("this passkey could not be checked; try again") from exc
    name = " ".join(str(data.get("name") or "Passkey").split())[:60] or "Passkey"
    credential_id = bytes_to_base64url(verified.credential_id)
    if await people_store.passkey_by_credential(services.store, credential_id) is not None:
        raise BadRequest("this passkey is already added")
    await people_store.add_passkey(
        services.store,
        person_id=visitor.person.id,
        credential_id=credential_id,
        public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        name=name,
        now=services.now_ms(),
    )
    log.info("passkey added for person %d", visitor.person.id)
    return JSONResponse({"ok": True})


async def delete_passkey(request: Request) -> Response:
    visitor = await signed_in(request)
    await read_form(request, visitor)
    passkey_id = path_id(request.path_params["id"], "passkey")
    if not await people_store.delete_passkey(
        services_of(request).store, passkey_id, visitor.person.id
    ):
        raise NotFound("no such passkey on your account")
    return see_other(request, "/app/account", "The passkey is removed.")


async def sign_in_options(request: Request) -> Response:
    from webauthn import generate_authentication_options, options_to_json  # deferred: passkeys
    from webauthn.helpers import bytes_to_base64url  # deferred: passkeys
    from webauthn.helpers.structs import UserVerificationRequirement  # deferred: passkeys

    services = services_of(request)
    _json_headers_ok(request, services, _pre_token(request, services))
    rp_id, _origin = relying_party(services)
    options = generate_authentication_options(
        rp_id=rp_id, user_verification=UserVerificationRequirement.PREFERRED
    )
    now = services.now_ms()
    await people_store.forget_expired(services.store, now=now)
    await people_store.add_challenge(
        services.store, bytes_to_base64url(options.challenge), expires_at=now + CHALLENGE_TTL_MS
    )
    return Response(options_to_json(options), media_type="application/json")


async def passkey_sign_in(request: Request) -> Response:
    from webauthn import verify_authentication_response  # deferred: passkeys
    from webauthn.helpers import (  # deferred: passkeys
        base64url_to_bytes,
        bytes_to_base64url,
        parse_client_data_json,
    )
    from webauthn.helpers.exceptions import WebAuthnException  # deferred: passkeys

    services = services_of(request)
    _json_headers_ok(request, services, _pre_token(request, services))
    data = await _json(request)
    credential = data.get("credential")
    refused = Forbidden("this passkey is not known here, or the request expired; try again")
    if not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
        raise refused
    try:
        client_data = parse_client_data_json(
            base64url_to_bytes(str(credential["response"]["clientDataJSON"]))
        )
        challenge = client_data.challenge
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        raise refused from exc
    now = services.now_ms()
    if not await people_store.take_challenge(
        services.store, bytes_to_base64url(challenge), now=now
    ):
        raise refused
    passkey = await people_store.passkey_by_credential(services.store, credential["id"])
    if passkey is None:
        raise refused
    person = await people_store.by_id(services.store, passkey.person_id)
    if person is None or person.disabled_at is not None:
        raise refused
    rp_id, origin = relying_party(services)
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=base64url_to_bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        log.info("passkey sign-in refused for person %d: %s", person.id, type(exc).__name__)
        raise refused from exc
    await people_store.passkey_used(services.store, passkey.id, verified.new_sign_count, now=now)
    target = safe_next(str(data.get("next") or ""))
    redirect = await sign_in(request, person, target)
    response = JSONResponse({"redirect": target})
    for key, value in redirect.headers.items():
        if key.lower() == "set-cookie":
            response.headers.append("set-cookie", value)
    return response


routes = [
    Route("/app/account/passkeys/options", registration_options, methods=["POST"]),
    Route("/app/account/passkeys", register, methods=["POST"]),
    Route("/app/account/passkeys/{id}/delete", delete_passkey, methods=["POST"]),
    Route("/login/passkey/options", sign_in_options, methods=["POST"]),
    Route("/login/passkey", passkey_sign_in, methods=["POST"]),
]
