"""Brokered logins through Duo in headless Chromium: the partner's IdP over OIDC and SAML."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser_steps import tokens_for, visits_duo
from tests.fixtures_bridge import PASSWORD
from tests.fixtures_browser import screenshot
from tests.fixtures_federation import FederationFactory

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


@pytest.mark.parametrize("protocol", ["oidc", "saml"])
def test_a_partner_user_signs_in_through_their_idp_and_duo(
    page: Page, federation: FederationFactory, protocol: str
) -> None:
    """The partner's sign-in page, first-login profile where asked, Duo Push approved: the
    application gets tokens whose Duo claim says allow, and Duo saw the brokered user."""
    fed = federation(protocol)
    fed.partner_user("pat")
    name = fed.duo_name("pat")
    fed.tenant.emulator.control.set_user(name, behavior="prompt", enrolled=True)
    before = fed.last_event()
    duo = visits_duo(page, fed.tenant)
    page.goto(fed.auth_url())
    page.wait_for_url(f"**/realms/{fed.idp_realm}/**")
    page.fill("#username", "pat")
    page.fill("#password", PASSWORD)
    page.click("#kc-login")
    host = fed.tenant.integration.api_host
    page.wait_for_url(lambda url: host in url or "/first-broker-login" in url)
    if host not in page.url:
        page.fill("#email", "pat@partner.example")
        page.fill("#firstName", "Pat")
        page.fill("#lastName", "Partner")
        page.locator("[type=submit]").first.click()
        page.wait_for_url(f"https://{host}/**")
    screenshot(page, f"federation-{protocol}-duo-prompt")
    page.get_by_role("button", name="Send Me a Push").click()
    page.get_by_role("button", name="Approve").click()
    claims = tokens_for(page, fed.tenant)
    assert claims["duo"]["result"] == "allow"  # type: ignore[index]
    assert duo
    assert fed.duo_names(before) == [name]
    [link] = fed.links("pat")
    assert link["identityProvider"] == fed.alias
