"""Client organizations in a partner realm in step-up mode (real Keycloak, Chromium, an
Authlib relying party): Keycloak's own acr_values step-up runs the member's organization's
Duo integration, and the partner's for a user in no organization."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page

from keycloak_duo_bridge.admin import duo_settings, organizations, wiring
from keycloak_duo_bridge.settings import Settings
from tests.fixtures_assurance import RelyingParty
from tests.fixtures_bridge import Bridge
from tests.fixtures_organizations import Partner

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


def _applications(duo_urls: list[str]) -> list[str]:
    """The Duo application (client_id) of each Duo prompt among the URLs."""
    return [
        client_id
        for url in duo_urls
        if urlsplit(url).path.endswith("/authorize")
        for client_id in parse_qs(urlsplit(url).query).get("client_id", [])
    ]


def test_step_up_mode_runs_the_members_organizations_duo(
    page: Page,
    org_partner: Partner,
    relying_party: Callable[..., RelyingParty],
    stack_settings: Settings,
    bridge: Bridge,
) -> None:
    """In step-up mode, acr_values=mfa steps a member up with the organization's Duo
    integration and a user in no organization with the partner's: both get acr mfa and Duo's
    amr, and a password-only login stays at acr pwd."""
    tenant = org_partner.tenant
    keycloak = org_partner.keycloak
    wires = wiring.Wiring.of(stack_settings, bridge.url)
    duo_settings.set_enabled(keycloak, tenant.realm, enabled=True, wires=wires, assurance="step-up")
    org, integration = org_partner.organization(f"org-{uuid.uuid4().hex[:6]}")
    tenant.user("pia")
    tenant.user("quin")
    organizations.add_member(keycloak, org, "pia")

    plain = relying_party(tenant).sign_in("pia")
    assert plain.claims["acr"] == "pwd"
    assert _applications(plain.duo_hops) == []
    member = relying_party(tenant).sign_in("pia", essential_acr="mfa", acr_values="mfa")
    assert _applications(member.duo_hops) == [integration.client_id]
    assert "mfa" in member.amr

    page.context.clear_cookies()
    other = relying_party(tenant).sign_in("quin", essential_acr="mfa", acr_values="mfa")
    assert _applications(other.duo_hops) == [tenant.integration.client_id]
    assert "mfa" in other.amr
