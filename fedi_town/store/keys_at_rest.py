"""Our private keys at rest: sealed in the database, opened once per process.

Every private key we hold (each business's, the instance actor's, the instance's VAPID key
for Web Push) is stored sealed with the keyring made from ``FEDI_TOWN_KEY_ENCRYPTION_KEYS``
(``protocol.sealed``): a copy of the database alone signs nothing. The access tokens kept
with push subscriptions (``store.push``) are sealed with it too. Without that setting
nothing that holds keys starts (``keyring`` raises ``ConfigError`` naming it); a key that
opens none of the stored keys is refused at start the same way, before any request is
served.

    prepare(store, keys)     at start: seal keys stored in plain PEM (written before
                             sealing existed; idempotent), check that every key opens
    reseal_all(store, keys)  ``fedi-town rotate-keys``: seal every key and push token with
                             the first key, in one transaction
    keys.seal(pem)           a new key, for storing
    keys.private_pem(s)      a stored key, opened once and kept in memory (parsing it is
                             ``protocol.keys``'s cache)

``keys`` is the process's one ``SealedKeys`` (``Services.sealed_keys``).

Errors name the setting, never a key.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from fedi_town.errors import ConfigError
from fedi_town.protocol.sealed import CannotOpen, Keyring, is_sealed
from fedi_town.settings import Settings
from fedi_town.store import businesses, push
from fedi_town.store.db import Store

log = logging.getLogger(__name__)

SETTING = "FEDI_TOWN_KEY_ENCRYPTION_KEYS"
INSTANCE_KEY = "instance_actor_keypair"
VAPID_KEY = "vapid_key"
#: The ``instance_kv`` entries holding a key pair ``{"private": sealed, "public": …}``,
#: resealed by a rotation.
KEY_PAIRS = (INSTANCE_KEY, VAPID_KEY)
#: Opened keys kept per process; past this the memory is emptied and refilled on use.
OPENED_MAX = 10_000

MISSING = (
    f"{SETTING} is not set: private keys are stored encrypted. Make a key with "
    f"`fedi-town new-key-encryption-key`, set {SETTING} to it, and keep a copy: "
    "without it the stored keys cannot be read"
)
WRONG = (
    f"{SETTING} does not open the stored private keys: set the key they were sealed with "
    "(during a rotation, list the new key first and the old one after it)"
)


@dataclass(frozen=True)
class Resealed:
    """What sealing or resealing did: how many keys it changed out of how many (and, for
    resealing, how many push subscriptions' tokens)."""

    changed: int
    total: int
    tokens_changed: int = 0
    tokens_total: int = 0


def keyring_of(settings: Settings) -> Keyring:
    """The keyring of ``settings``; ``ConfigError`` naming the setting when it has none."""
    if not settings.key_encryption_keys:
        raise ConfigError(MISSING)
    return Keyring(settings.key_encryption_keys)


class SealedKeys:
    """This process's keyring (made from the settings on first use) and the keys it opened.

    Never in a repr: it holds opened private keys.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._keyring: Keyring | None = None
        self._opened: dict[str, str] = {}

    def __repr__(self) -> str:
        return "SealedKeys()"

    @property
    def keyring(self) -> Keyring:
        """The keyring (made once); ``ConfigError`` naming the setting when there is none."""
        if self._keyring is None:
            self._keyring = keyring_of(self._settings)
        return self._keyring

    def seal(self, private_pem: str) -> str:
        """``private_pem`` sealed for storing."""
        return self.keyring.seal(private_pem)

    def private_pem(self, sealed: str) -> str:
        """The private key PEM a stored value holds, opened once per process.

        ``ConfigError`` when the keyring cannot open it (the setting holds another key).
        """
        pem = self._opened.get(sealed)
        if pem is None:
            try:
                pem = self.keyring.open(sealed)
            except CannotOpen:
                raise ConfigError(WRONG) from None
            if len(self._opened) >= OPENED_MAX:
                self._opened.clear()
            self._opened[sealed] = pem
        return pem


async def prepare(store: Store, keys: SealedKeys) -> Resealed:
    """Seal every key still stored as plain PEM and check that every key opens.

    Run at each start (``instance.ensure_instance_key``): after the first start with a
    key it changes nothing. ``ConfigError`` when the setting is missing or wrong.
    """
    ring = keys.keyring
    changed = total = 0
    for business_id, stored in await businesses.private_keys(store):
        total += 1
        if is_sealed(stored):
            _check_opens(ring, stored)
        else:
            await businesses.replace_private_key(store, business_id, stored, ring.seal(stored))
            changed += 1
    # The VAPID key is left out: always sealed when made, and a start refused for want of
    # it would stop far more than Web Push.
    instance = await businesses.get_kv(store, INSTANCE_KEY)
    if instance is not None:
        total += 1
        pair = json.loads(instance)
        if is_sealed(pair["private"]):
            _check_opens(ring, pair["private"])
        else:
            sealed = json.dumps({"private": ring.seal(pair["private"]), "public": pair["public"]})
            await businesses.replace_kv(store, INSTANCE_KEY, instance, sealed)
            changed += 1
    if changed:
        log.info("sealed %d of %d private key(s) stored in plain PEM", changed, total)
    return Resealed(changed, total)


async def reseal_all(store: Store, keys: SealedKeys) -> Resealed:
    """Seal every stored key, and every push subscription's token, with the keyring's first
    key (``fedi-town rotate-keys``), all in one transaction: a failure leaves them as they
    were, each still opened by the key it was sealed with.

    Values already sealed with the first key are left as they are, so running it twice
    changes nothing the second time.
    """
    ring = keys.keyring
    await prepare(store, keys)
    changed = total = tokens_changed = tokens_total = 0
    async with store.transaction():
        for business_id, stored in await businesses.private_keys(store):
            total += 1
            if not ring.sealed_with_first(stored):
                new = _reseal(ring, stored)
                await businesses.replace_private_key(store, business_id, stored, new)
                changed += 1
        for kv_key in KEY_PAIRS:
            stored_pair = await businesses.get_kv(store, kv_key)
            if stored_pair is None:
                continue
            total += 1
            pair = json.loads(stored_pair)
            if not ring.sealed_with_first(pair["private"]):
                pair["private"] = _reseal(ring, pair["private"])
                await businesses.replace_kv(store, kv_key, stored_pair, json.dumps(pair))
                changed += 1
        for subscription_id, token in await push.sealed_tokens(store):
            tokens_total += 1
            if not ring.sealed_with_first(token):
                new = _reseal(ring, token)
                await push.replace_sealed_token(store, subscription_id, token, new)
                tokens_changed += 1
    log.info(
        "resealed %d of %d private key(s) and %d of %d push token(s) with the first key",
        changed,
        total,
        tokens_changed,
        tokens_total,
    )
    return Resealed(changed, total, tokens_changed, tokens_total)


def _check_opens(ring: Keyring, sealed: str) -> None:
    try:
        ring.open(sealed)
    except CannotOpen:
        raise ConfigError(WRONG) from None


def _reseal(ring: Keyring, sealed: str) -> str:
    try:
        return ring.reseal(sealed)
    except CannotOpen:
        raise ConfigError(WRONG) from None
