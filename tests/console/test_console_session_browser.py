"""Signing out of both consoles, and the self-service status, clicked through in Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from keycloak_duo_bridge.emulator import RunningEmulator
from tests.fixtures_bridge import Bridge, TenantFactory
from tests.fixtures_browser import screenshot
from tests.fixtures_console import Provider, axe_violations, keycloak_sign_in

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


def asks_for_the_password(page: Page) -> None:
    """The page is Keycloak's login form, with an empty password field."""
    expect(page.locator("#password")).to_be_visible()
    expect(page.locator("#password")).to_have_value("")


def sign_out_and_in_again(page: Page, bridge: Bridge, base: str, realm: str, shot: str) -> None:
    """Sign out: a bridge page says so, and signing in again asks Keycloak for the password."""
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{bridge.url}{base}/signed-out?state={realm}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Signed out")
    place = "the Duo console" if base == "/admin" else "the Duo two-factor self-service"
    expect(page.get_by_role("main")).to_contain_text(f"signed out of {place} and of your")
    screenshot(page, shot, full_page=True)
    assert axe_violations(page) == []
    cookie = f"kdb_{'admin' if base == '/admin' else 'account'}_session"
    assert cookie not in {c["name"] for c in page.context.cookies()}
    page.goto(f"{bridge.url}{base}/")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto(f"{bridge.url}{base}/signed-out?state={realm}")
    page.get_by_role("link", name="Sign in again").click()
    page.wait_for_url(f"**/realms/{realm}/protocol/openid-connect/auth?**")
    asks_for_the_password(page)


def test_sign_out_ends_both_sessions_in_the_admin_console(page: Page, provider: Provider) -> None:
    """Admin console: sign-out ends the bridge's and Keycloak's sessions without a question."""
    bridge = provider.bridge
    page.goto(f"{bridge.url}/admin/")
    page.get_by_label("Realm").fill(provider.partner)
    page.get_by_role("button", name="Sign in with Keycloak").click()
    keycloak_sign_in(page, provider.admin_user)
    page.wait_for_url(f"{bridge.url}/admin/")
    sign_out_and_in_again(page, bridge, "/admin", provider.partner, "console-signed-out")
    keycloak_sign_in(page, provider.admin_user)
    page.wait_for_url(f"{bridge.url}/admin/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_sign_out_ends_both_sessions_in_self_service(
    page: Page, provider: Provider, duo_emulator: RunningEmulator
) -> None:
    """Self-service: sign-out ends both sessions; signing in again asks for the password."""
    provider.user(duo_emulator, "sol")
    bridge = provider.bridge
    page.goto(f"{bridge.url}/account/duo/?realm={provider.client}")
    keycloak_sign_in(page, "sol")
    page.wait_for_url(f"{bridge.url}/account/duo/")
    sign_out_and_in_again(page, bridge, "/account/duo", provider.client, "self-service-signed-out")
    keycloak_sign_in(page, "sol")
    page.wait_for_url(f"{bridge.url}/account/duo/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_enrolled_user_in_a_required_realm_reads_that_duo_is_on(
    page: Page, duo_tenant: TenantFactory, bridge: Bridge
) -> None:
    """Required realm: after passing Duo, alice reads "On" and when she passed; no Activate."""
    tenant = duo_tenant(user_mode="required")
    tenant.user("alice", behavior="prompt", enrolled=True)
    page.goto(f"{bridge.url}/account/duo/?realm={tenant.realm}")
    keycloak_sign_in(page, "alice")
    page.wait_for_url(f"https://{tenant.integration.api_host}/**")
    page.get_by_role("button", name="Send Me a Push").click()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{bridge.url}/account/duo/")
    expect(page.locator("#duo-status")).to_have_text("On")
    main = page.get_by_role("main")
    expect(main).to_contain_text("Your realm asks every user for Duo at sign-in")
    expect(page.locator("#duo-last-passed")).to_contain_text("You last passed Duo at")
    expect(page.locator("#duo-last-passed time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
    )
    expect(main).not_to_contain_text("Not activated")
    expect(page.get_by_role("button", name="Activate Duo")).to_have_count(0)
    expect(page.get_by_role("button", name="Deactivate")).to_have_count(0)
    screenshot(page, "self-service-required", full_page=True)
    assert axe_violations(page) == []
