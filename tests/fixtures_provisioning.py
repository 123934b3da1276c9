"""Fixtures for Duo's Admin and Accounts APIs (issue 17): clients of the session emulator.

``duo_rest_options`` trusts the emulator's CA and lets calls go to its loopback host;
``duo_rest_creds`` makes fresh Admin or Accounts API credentials there, optionally with
missing permissions or a scripted plan refusal, as our own client takes them;
``phone_tenant`` makes a Duo-enabled client realm whose partner has an admin link, for
phones from the profile.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from keycloak_duo_bridge.admin import duo_link
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.rest_client import RestCredentials, RestOptions
from keycloak_duo_bridge.duo.rest_protocol import Api
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.emulator.rest_model import ApiKind, Refusal
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.fixtures_bridge import Tenant, TenantFactory

MakeRestCreds = Callable[..., RestCredentials]


@pytest.fixture
def duo_rest_options(duo_emulator: RunningEmulator) -> RestOptions:
    """Our Duo TLS settings for the emulator: its CA, and its loopback host allowed."""
    return RestOptions(ca_file=duo_emulator.ca_path, allow_any_host=True)


@pytest.fixture
def duo_rest_creds(duo_emulator: RunningEmulator) -> MakeRestCreds:
    """``make(api, permissions=None, refusal=None)``: fresh credentials on the emulator."""

    def make(
        api: Api, *, permissions: list[str] | None = None, refusal: Refusal | None = None
    ) -> RestCredentials:
        kind: ApiKind = "adminapi" if api is Api.ADMIN else "accountsapi"
        made = duo_emulator.control.add_api_credentials(
            kind, permissions=permissions, refusal=refusal
        )
        return RestCredentials(made.ikey, made.skey, made.api_host, api)

    return make


LinkPartner = Callable[..., RestCredentials]


@pytest.fixture
def link_partner(
    admin_keycloak: Keycloak, stack_settings: Settings, duo_rest_creds: MakeRestCreds
) -> LinkPartner:
    """``link(partner, api=Api.ADMIN, permissions=None, refusal=None)``: fresh emulator
    credentials stored as the partner's admin link (unchecked); returns them."""

    def link(partner: str, api: Api = Api.ADMIN, **kwargs: object) -> RestCredentials:
        creds = duo_rest_creds(api, **kwargs)
        duo_link.set_link(
            admin_keycloak,
            partner,
            ikey=creds.ikey,
            skey=creds.skey,
            api_host=creds.api_host,
            api=api,
            ring=key_ring(stack_settings),
            check=None,
        )
        return creds

    return link


@pytest.fixture
def phone_tenant(duo_tenant: TenantFactory, link_partner: LinkPartner) -> Callable[..., Tenant]:
    """``make(self_phones="manage", permissions=None, **policy)``: a client realm with Duo on,
    users allowed ``self_phones``, and its partner linked to the emulator's Admin API."""

    def make(
        self_phones: str = "manage", permissions: list[str] | None = None, **policy: object
    ) -> Tenant:
        tenant = duo_tenant(self_phones=self_phones, **policy)
        link_partner(tenant.partner, permissions=permissions)
        return tenant

    return make
