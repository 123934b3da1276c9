"""The admin console and Duo self-service, clicked through in headless Chromium."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from unittest.mock import ANY

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.emulator import RunningEmulator
from tests.browser_steps import sign_in, tokens_for, visits_duo
from tests.fixtures_bridge import APP2_ID, Bridge, Tenant, TenantFactory
from tests.fixtures_browser import screenshot
from tests.fixtures_console import Provider, axe_violations, keycloak_sign_in

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


@pytest.fixture
def person(browser: Browser) -> Iterator[Page]:
    """A second, separate browser profile (another person at another computer)."""
    context: BrowserContext = browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(20_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def accessible(page: Page) -> None:
    """The page passes axe-core's WCAG 2.1 A/AA and best-practice rules."""
    assert axe_violations(page) == []


def console_sign_in(page: Page, bridge: Bridge, realm: str, username: str) -> None:
    page.goto(f"{bridge.url}/admin/")
    page.get_by_label("Realm").fill(realm)
    page.get_by_role("button", name="Sign in with Keycloak").click()
    keycloak_sign_in(page, username)
    page.wait_for_url(f"{bridge.url}/admin/")


def configure_client_by_forms(page: Page, provider: Provider) -> None:
    """Sign in as the partner admin; test a wrong key, save the right ones, Duo on, app 2 off."""
    bridge, client, creds = provider.bridge, provider.client, provider.integration
    page.goto(f"{bridge.url}/admin/")
    screenshot(page, "console-sign-in", full_page=True)
    accessible(page)
    console_sign_in(page, bridge, provider.partner, provider.admin_user)
    expect(page.get_by_role("navigation")).to_contain_text(f"Client {client[3:]}")
    screenshot(page, "console-home", full_page=True)
    accessible(page)

    page.get_by_role("link", name=f"Client {client[3:]}").click()
    expect(page.get_by_role("heading", name="Authentication Mechanism")).to_be_visible()
    page.get_by_label("Integration key (ikey)").fill(creds.client_id)
    page.get_by_label("Secret key (skey)").fill("x" * 40)
    page.get_by_label("API host").fill(creds.api_host)
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("status")).to_contain_text("Wrong keys")
    screenshot(page, "console-test-connection-wrong-key", full_page=True)
    accessible(page)
    assert "x" * 40 not in page.content()

    page.get_by_label("Secret key (skey)").fill(creds.client_secret)
    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_role("status")).to_contain_text("Works")
    page.get_by_label("Secret key (skey)").fill(creds.client_secret)
    page.get_by_role("button", name="Save credentials").click()
    expect(page.get_by_role("status")).to_contain_text("credentials are saved")
    assert creds.client_secret not in page.content()
    page.get_by_role("radio", name="On", exact=True).check()
    page.get_by_role("button", name="Save switch").click()
    expect(page.get_by_role("status")).to_contain_text("switch is saved")
    row = page.get_by_role("row", name=APP2_ID)
    row.get_by_role("radio", name="Off").check()
    row.get_by_role("button", name="Save").click()
    expect(page.get_by_role("row", name=APP2_ID)).to_contain_text("the application is off")
    screenshot(page, "console-client-page", full_page=True)
    accessible(page)


def test_admin_enables_duo_tests_keys_and_switches_an_app_off(
    page: Page,
    person: Page,
    provider: Provider,
    duo_emulator: RunningEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A partner admin turns Duo on for a client by the forms; one app requires Duo, one not."""
    with caplog.at_level(logging.INFO, logger="keycloak_duo_bridge.audit"):
        configure_client_by_forms(page, provider)
    audited = [r.__dict__["fields"] for r in caplog.records if r.getMessage() == "admin change"]
    assert [f["action"] for f in audited] == ["set duo credentials", "switch duo", "set app mode"]
    assert all(f["by"]["username"] == "padmin" for f in audited)
    assert all(f["realm"] == provider.client and f["via"] == "console" for f in audited)
    assert provider.integration.client_secret not in caplog.text

    provider.user(duo_emulator, "carol", behavior="allow", enrolled=True)
    tenant = Tenant(
        provider.partner,
        provider.client,
        provider.integration,
        provider.settings,
        duo_emulator,
        provider.redirect_uri,
    )
    duo = visits_duo(person, tenant)
    sign_in(person, tenant, "carol")
    assert tokens_for(person, tenant)["duo"] == {
        "result": "allow",
        "factor": ANY,
        "txid": ANY,
        "time": ANY,
        "reason": ANY,
    }
    assert duo
    duo.clear()
    person.context.clear_cookies()
    sign_in(person, tenant, "carol", client_id=APP2_ID)
    claims = tokens_for(person, tenant, APP2_ID)
    assert not duo
    assert "duo" not in claims


def test_partner_admin_cannot_see_another_partners_clients(
    page: Page, provider: Provider, admin_keycloak: Keycloak
) -> None:
    """A partner's admin sees their own partner and clients only; another's page is refused."""
    other = f"{provider.partner}-other"
    tenants.create_partner(admin_keycloak, other)
    tenants.create_client(admin_keycloak, f"{other}-client", partner=other)
    console_sign_in(page, provider.bridge, provider.partner, provider.admin_user)
    nav = page.get_by_role("navigation")
    expect(nav).to_contain_text(provider.client[3:])
    expect(nav).not_to_contain_text(other)
    page.goto(f"{provider.bridge.url}/admin/tenants/{other}-client")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not yours")
    screenshot(page, "console-refused", full_page=True)
    page.goto(f"{provider.bridge.url}/admin/tenants/{provider.partner}")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Partner {provider.client[3:]}")
    expect(
        page.get_by_role("heading", name="Duo Security MFA Configuration", level=2)
    ).to_be_visible()
    switch = page.get_by_role("group", name="Two-factor authentication: Duo")
    expect(switch.get_by_role("radio", name="Off", exact=True)).to_be_checked()
    screenshot(page, "console-partner-page", full_page=True)
    accessible(page)


def test_user_activates_duo_and_is_prompted_at_the_next_login(
    page: Page, person: Page, duo_tenant: TenantFactory, bridge: Bridge
) -> None:
    """Opt-in realm: a user activates Duo (enrolling a phone) and the next login asks for Duo."""
    tenant = duo_tenant(user_mode="opt-in", self_deactivate="true")
    tenant.user("olga", behavior="prompt", enrolled=False)
    page.goto(f"{bridge.url}/account/duo/?realm={tenant.realm}")
    keycloak_sign_in(page, "olga")
    page.wait_for_url(f"{bridge.url}/account/duo/")
    expect(page.locator("#duo-status")).to_have_text("Not activated")
    screenshot(page, "self-service-not-activated", full_page=True)
    accessible(page)

    page.get_by_role("button", name="Activate Duo").click()
    page.wait_for_url(f"https://{tenant.integration.api_host}/**")
    page.get_by_label("Mobile phone number").fill("+15555550123")
    page.get_by_role("button", name="Add phone").click()
    page.get_by_role("button", name="Send Me a Push").click()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{bridge.url}/account/duo/?notice=activated")
    expect(page.locator("#duo-status")).to_have_text("Activated")
    expect(page.get_by_role("button", name="Deactivate")).to_be_visible()
    screenshot(page, "self-service-activated", full_page=True)
    accessible(page)

    duo = visits_duo(person, tenant)
    sign_in(person, tenant, "olga")
    person.wait_for_url(f"https://{tenant.integration.api_host}/**")
    assert duo
    expect(person.get_by_role("button", name="Send Me a Push")).to_be_visible()


def test_self_service_offers_nothing_where_duo_is_off(
    page: Page, provider: Provider, duo_emulator: RunningEmulator
) -> None:
    """In a realm with Duo off, /account/duo shows no Duo option."""
    provider.user(duo_emulator, "nina")
    page.goto(f"{provider.bridge.url}/account/duo/?realm={provider.client}")
    keycloak_sign_in(page, "nina")
    expect(page.get_by_role("main")).to_contain_text("not offered in your realm")
    expect(page.get_by_role("button", name="Activate Duo")).to_have_count(0)
    screenshot(page, "self-service-duo-off", full_page=True)
    accessible(page)


def fits_the_phone(page: Page) -> None:
    """Nothing on the page is wider than the 390 px screen (no sideways scrolling)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{page.url} is {width} px wide"


PHONE_WIDTH = 390


def test_the_console_fits_a_phone(page: Page, provider: Provider) -> None:
    """At 390 px the console's pages fit the screen and the list stacks above the page."""
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    page.goto(f"{provider.bridge.url}/admin/")
    fits_the_phone(page)
    console_sign_in(page, provider.bridge, provider.partner, provider.admin_user)
    fits_the_phone(page)
    for realm in (provider.client, provider.partner):
        page.goto(f"{provider.bridge.url}/admin/tenants/{realm}")
        expect(page.get_by_role("heading", name="Applications")).to_be_visible()
        fits_the_phone(page)
        nav = page.get_by_role("navigation").bounding_box()
        main = page.get_by_role("main").bounding_box()
        assert nav
        assert main
        assert nav["y"] + nav["height"] <= main["y"]  # stacked, not side by side
        accessible(page)
    page.goto(f"{provider.bridge.url}/admin/tenants/{provider.client}")
    screenshot(page, "console-client-page-phone", full_page=True)
    page.goto(f"{provider.bridge.url}/account/duo/")
    fits_the_phone(page)


def test_admin_saves_auth_api_keys_checked_live_and_a_client_inherits_them(
    page: Page,
    provider: Provider,
    auth_api_creds: AuthApiCredentials,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The partner admin's Auth API keys: a wrong skey is refused by Duo's check and nothing
    is saved; the right ones are saved (skey never shown), the client uses them, and they
    can be removed."""
    bridge = provider.bridge
    console_sign_in(page, bridge, provider.partner, provider.admin_user)
    page.goto(f"{bridge.url}/admin/tenants/{provider.partner}")
    panel = page.get_by_role("group", name="Duo Auth API")
    panel.get_by_label("Integration key of the Auth API application").fill(auth_api_creds.ikey)
    panel.get_by_label("Secret key of the Auth API application").fill("y" * 40)
    panel.get_by_label("Host of the Auth API application").fill(auth_api_creds.api_host)
    page.get_by_role("button", name="Save Auth API keys").click()
    expect(page.get_by_role("alert")).to_contain_text("Duo rejected the Auth API credentials")
    assert "y" * 40 not in page.content()
    expect(panel.get_by_label("Integration key of the Auth API application")).to_have_value(
        auth_api_creds.ikey
    )
    expect(panel.get_by_text("No secret key stored.")).to_be_visible()
    panel.get_by_label("Secret key of the Auth API application").fill(auth_api_creds.skey)
    panel.get_by_label("Host of the Auth API application").fill("127.0.0.1:1")
    page.get_by_role("button", name="Save Auth API keys").click()
    expect(page.get_by_role("alert")).to_contain_text("did not answer")
    expect(panel.get_by_text("No secret key stored.")).to_be_visible()
    panel.get_by_label("Host of the Auth API application").fill(auth_api_creds.api_host)

    with caplog.at_level(logging.INFO, logger="keycloak_duo_bridge.audit"):
        panel.get_by_label("Secret key of the Auth API application").fill(auth_api_creds.skey)
        page.get_by_role("button", name="Save Auth API keys").click()
        expect(page.get_by_role("status")).to_contain_text("Auth API keys are saved")
    assert auth_api_creds.skey not in page.content()
    assert auth_api_creds.skey not in caplog.text
    expect(panel.get_by_text("A secret key is stored; it is never shown.")).to_be_visible()
    audited = [r.__dict__["fields"] for r in caplog.records if r.getMessage() == "admin change"]
    assert [(f["action"], f["via"]) for f in audited] == [("set duo auth api", "console")]
    accessible(page)
    screenshot(page, "console-auth-api", full_page=True)

    page.goto(f"{bridge.url}/admin/tenants/{provider.client}")
    expect(page.get_by_role("group", name="Duo Auth API")).to_contain_text("using the partner's")

    page.goto(f"{bridge.url}/admin/tenants/{provider.partner}")
    page.get_by_role("button", name="Remove Auth API keys").click()
    expect(page.get_by_role("status")).to_contain_text("Auth API keys are removed")
    page.goto(f"{bridge.url}/admin/tenants/{provider.client}")
    expect(page.get_by_role("group", name="Duo Auth API")).not_to_contain_text("partner's")
