"""Logins by members of a client organization, in Chromium, on real Keycloak: the member gets
the organization's Duo integration and application modes, anyone else the partner's."""

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
from tests.browser_steps import auth_url, tokens_for
from tests.fixtures_bridge import APP2_ID, APP_ID, PASSWORD, Bridge, Tenant

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


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


@pytest.fixture
def partner(
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
    page.fill("#username", username)
    if page.locator("#password").count() == 0:
        page.click("#kc-login")
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


def test_a_member_gets_the_organizations_duo_and_others_the_partners(
    page: Page, partner: Partner
) -> None:
    """A member passes Duo with the organization's integration; a user in no organization
    with the partner's. The organization requires Duo for an application the partner has off:
    its members pass Duo there, other users do not."""
    tenant = partner.tenant
    org, integration = partner.organization(f"org-{uuid.uuid4().hex[:6]}")
    organizations.set_app_mode(partner.keycloak, org, APP2_ID, "required")
    tenant.user("mona")
    tenant.user("nick")
    organizations.add_member(partner.keycloak, org, "mona")
    seen = duo_ikeys(page, tenant)

    sign_in(page, tenant, "mona")
    assert tokens_for(page, tenant)["duo"]["result"] == "allow"  # type: ignore[index]
    assert seen == [integration.client_id]
    page.context.clear_cookies()
    sign_in(page, tenant, "nick")
    assert tokens_for(page, tenant)["duo"]["result"] == "allow"  # type: ignore[index]
    assert seen[1:] == [tenant.integration.client_id]

    page.context.clear_cookies()
    sign_in(page, tenant, "nick", client_id=APP2_ID)
    assert "duo" not in tokens_for(page, tenant, APP2_ID)
    assert len(seen) == 2
    page.context.clear_cookies()
    sign_in(page, tenant, "mona", client_id=APP2_ID)
    assert tokens_for(page, tenant, APP2_ID)["duo"]["result"] == "allow"  # type: ignore[index]
    assert seen[2:] == [integration.client_id]


def test_a_member_of_two_organizations_with_none_selected_is_refused(
    page: Page, partner: Partner
) -> None:
    """A member of two client organizations, with none selected by Keycloak, is refused with
    the reason; no organization is picked for them."""
    tenant = partner.tenant
    first, _ = partner.organization(f"org-{uuid.uuid4().hex[:6]}")
    second, _ = partner.organization(f"org-{uuid.uuid4().hex[:6]}")
    tenant.user("olga")
    organizations.add_member(partner.keycloak, first, "olga")
    organizations.add_member(partner.keycloak, second, "olga")
    seen = duo_ikeys(page, tenant)
    sign_in(page, tenant, "olga")
    page.get_by_text("belongs to several organizations").wait_for()
    assert seen == []
    [error] = tenant.events("CUSTOM_REQUIRED_ACTION_ERROR")
    assert error["error"] == "duo_organization_ambiguous"
