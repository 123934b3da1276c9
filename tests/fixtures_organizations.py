"""Fixtures for clients kept as organizations: a partner realm with Duo on that holds client
organizations, and Keycloak's identity-first sign-in of such a realm."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page

from keycloak_duo_bridge.admin import apps, duo_settings, organizations, tenants, wiring
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.browser_steps import auth_url
from tests.fixtures_bridge import APP2_ID, APP_ID, PASSWORD, Bridge, Tenant
from tests.fixtures_console import keycloak_sign_in


@dataclass
class Partner:
    """A partner realm with Duo on (its own integration) holding client organizations."""

    tenant: Tenant  # the partner realm, as the browser steps sign in to it
    keycloak: Keycloak

    def organization(self, name: str) -> tuple[organizations.Organization, IntegrationCredentials]:
        """A client organization with its own Duo integration."""
        org = organizations.create_organization(self.keycloak, name, partner=self.tenant.realm)
        integration = self.tenant.emulator.control.add_integration()
        organizations.set_credentials(
            self.keycloak,
            org,
            ikey=integration.client_id,
            skey=integration.client_secret,
            api_host=integration.api_host,
            ring=key_ring(self.tenant.settings),
            health=None,
        )
        return org, integration

    def member_of_two(
        self, username: str
    ) -> tuple[organizations.Organization, organizations.Organization, IntegrationCredentials]:
        """A new user who is a member of two new client organizations: both, and the
        second's Duo integration."""
        first, _ = self.organization(f"org-{uuid.uuid4().hex[:6]}")
        second, integration = self.organization(f"org-{uuid.uuid4().hex[:6]}")
        self.tenant.user(username)
        organizations.add_member(self.keycloak, first, username)
        organizations.add_member(self.keycloak, second, username)
        return first, second, integration


@pytest.fixture
def org_partner(
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    bridge: Bridge,
    duo_emulator: RunningEmulator,
    app_redirect: str,
) -> Iterator[Partner]:
    """A partner realm with Duo on, both demo applications, and the second one off."""
    name = f"po-{uuid.uuid4().hex[:8]}"
    tenants.create_partner(admin_keycloak, name)
    integration = duo_emulator.control.add_integration()
    duo_settings.set_credentials(
        admin_keycloak,
        name,
        ikey=integration.client_id,
        skey=integration.client_secret,
        api_host=integration.api_host,
        ring=key_ring(stack_settings),
        health=None,
    )
    wires = wiring.Wiring.of(stack_settings, bridge.url)
    duo_settings.set_enabled(admin_keycloak, name, enabled=True, wires=wires)
    provision.ensure_app(stack_settings, name, APP_ID, app_redirect)
    provision.ensure_app(stack_settings, name, APP2_ID, app_redirect)
    apps.set_mode(admin_keycloak, name, APP2_ID, "off")
    tenant = Tenant(name, name, integration, stack_settings, duo_emulator, app_redirect)
    tenant.admin().update_realm(name, {"eventsEnabled": True})
    yield Partner(tenant, admin_keycloak)
    tenants.delete_tenant(admin_keycloak, name)


def sign_in(page: Page, tenant: Tenant, username: str, **extra: str) -> None:
    """Keycloak's identity-first login of a realm with organizations: the username, then the
    password."""
    page.goto(auth_url(tenant, **extra))
    keycloak_sign_in(page, username)


def sign_in_selecting(
    page: Page, tenant: Tenant, username: str, organization: str, **extra: str
) -> None:
    """Keycloak's identity-first login with its organization selection page (the app asks
    for the organization scope): the username, the organization chosen, then the password."""
    page.goto(auth_url(tenant, scope="openid organization", **extra))
    page.fill("#username", username)
    page.click("#kc-login")
    page.click(f"#organization-{organization}")  # Keycloak's selection page
    page.fill("#password", PASSWORD)
    page.click("#kc-login")


def duo_ikeys(page: Page, tenant: Tenant) -> list[str]:
    """The Duo application (client_id) of each Duo prompt the page opens."""
    seen: list[str] = []

    def note(url: str) -> None:
        parts = urlsplit(url)
        if parts.netloc == tenant.integration.api_host and parts.path.endswith("/authorize"):
            seen.extend(parse_qs(parts.query).get("client_id", []))

    page.on("request", lambda r: note(r.url))
    return seen
