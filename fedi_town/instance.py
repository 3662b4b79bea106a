"""The instance actor: an ``Application`` that signs our server-to-server GETs.

Its key pair is made once and kept in ``instance_kv``, the private half sealed like every
private key we hold (``keys_at_rest``). On an authorized-fetch Mastodon our key must be
fetchable unsigned and pass the WebFinger round trip (interop S4, W4).
"""

from __future__ import annotations

import json
import logging

from fedi_town.protocol.keys import generate_rsa_keypair
from fedi_town.remote.signers import InstanceKey
from fedi_town.services import Services
from fedi_town.store import businesses, keys_at_rest

log = logging.getLogger(__name__)

KV_KEY = keys_at_rest.INSTANCE_KEY


async def ensure_instance_key(services: Services) -> None:
    """Seal any private key still stored in plain PEM and check they all open (refusing
    to start without a working key encryption key), create the instance actor's key pair
    if there is none, and keep it on ``services.instance_key``."""
    await keys_at_rest.prepare(services.store, services.sealed_keys)
    stored = await businesses.get_kv(services.store, KV_KEY)
    if stored is None:
        private_pem, public_pem = generate_rsa_keypair()
        sealed = services.sealed_keys.seal(private_pem)
        stored = await businesses.put_kv_if_absent(
            services.store, KV_KEY, json.dumps({"private": sealed, "public": public_pem})
        )
        log.info("created the instance actor key")
    pair = json.loads(stored)
    services.instance_key = InstanceKey(
        services.urls.instance_key_id(),
        services.sealed_keys.private_pem(pair["private"]),
        pair["public"],
        services.clock,
    )
