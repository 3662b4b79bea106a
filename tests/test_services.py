"""Typed Services: what touches the world, built once; each way's helpers kept by class."""

from __future__ import annotations

import pytest

from fedi_town.protocol.urls import Urls
from fedi_town.remote.signers import InstanceKey
from fedi_town.services import Parts, Services
from fedi_town.settings import Settings
from fedi_town.store.db import Store
from tests.inbound.helpers import keypair


class Limits:
    """A stand-in for one way's private helper."""


def test_a_part_is_made_on_first_use_and_the_same_one_comes_back():
    # Given no parts
    parts = Parts()
    made: list[Limits] = []

    def make() -> Limits:
        made.append(Limits())
        return made[-1]

    # When the same kind is asked for twice
    first = parts.get(Limits, make)
    second = parts.get(Limits, make)
    # Then it was made once and is the same object
    assert first is second and made == [first]


def test_a_part_never_made_is_not_found_and_a_popped_part_is_gone():
    parts = Parts()
    assert parts.find(Limits) is None
    made = parts.get(Limits, Limits)
    assert parts.find(Limits) is made
    assert parts.pop(Limits) is made
    assert parts.find(Limits) is None and parts.pop(Limits) is None


def test_the_remote_client_and_the_instance_key_are_refused_before_start(settings: Settings):
    # Given services that have not been started
    services = Services.from_settings(settings)
    # Then asking for what start opens is an error that says so
    with pytest.raises(RuntimeError, match="opened at start"):
        services.started_remote()
    with pytest.raises(RuntimeError, match="read at start"):
        services.instance_signer()


def test_services_from_settings_use_its_database_and_its_base_url(settings: Settings):
    services = Services.from_settings(settings)
    assert services.store.url == settings.database_url
    assert services.urls.base == Urls(settings.base_url).base


@pytest.mark.anyio
async def test_keys_never_show_in_the_repr_of_services(settings: Settings, store: Store):
    # Given services holding the instance key pair
    services = Services(settings=settings, store=store, urls=Urls(settings.base_url))
    private_pem, public_pem = keypair()
    services.instance_key = InstanceKey("k", private_pem, public_pem, services.clock)
    # When they are printed
    shown = repr(services)
    # Then no key is in it
    assert "PRIVATE" not in shown and "PUBLIC" not in shown
