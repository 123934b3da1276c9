"""Phones from the profile at ``/account/duo``, in headless Chromium against the sandbox and
the emulator: a user registers a mobile number and logs in with it; the boundaries hold."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from keycloak_duo_bridge.admin import phones
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.rest_client import RestOptions
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.browser_steps import sign_in, tokens_for
from tests.fixtures_bridge import Bridge, Tenant
from tests.fixtures_browser import screenshot
from tests.fixtures_console import Provider, axe_violations, keycloak_sign_in
from tests.fixtures_provisioning import LinkPartner

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


def unknown_to_duo(tenant: Tenant) -> str:
    """A Keycloak user of the tenant whose name Duo has never seen."""
    name = f"ph-{uuid.uuid4().hex[:8]}"
    tenant.user(name)
    found = tenant.emulator.state.user(name)
    assert found is not None
    tenant.emulator.state.delete_user(found.key)
    return name


def open_account(page: Page, bridge: Bridge, tenant: Tenant, username: str) -> None:
    page.goto(f"{bridge.url}/account/duo/?realm={tenant.realm}")
    keycloak_sign_in(page, username)
    page.wait_for_url(f"{bridge.url}/account/duo/")


def number() -> str:
    return f"+1555{uuid.uuid4().int % 10**7:07d}"


def test_register_a_phone_then_log_in_with_it(
    page: Page, browser: Browser, phone_tenant: Callable[..., Tenant], bridge: Bridge
) -> None:
    """A user registers a mobile number at /account/duo (SMS sent, shown masked), activates
    Duo and logs in with that phone in Duo's prompt, then removes it."""
    tenant = phone_tenant("manage", user_mode="opt-in")
    name = unknown_to_duo(tenant)
    mobile = number()
    open_account(page, bridge, tenant, name)
    expect(page.locator("#duo-devices-none")).to_be_visible()
    page.get_by_label("Mobile number").fill("555 0100")
    page.get_by_role("button", name="Register phone").click()
    expect(page.get_by_role("main")).to_contain_text("E.164")
    page.goto(f"{bridge.url}/account/duo/")
    page.get_by_label("Mobile number").fill(mobile)
    page.get_by_role("button", name="Register phone").click()
    page.wait_for_url(f"{bridge.url}/account/duo/?notice=phone-added")
    masked = f"XXX-XXX-{mobile[-4:]}"
    expect(page.locator("#duo-devices li")).to_contain_text(f"Mobile {masked}")
    assert mobile not in page.content()
    screenshot(page, "self-service-phone-registered", full_page=True)
    assert axe_violations(page) == []
    duo_user = tenant.emulator.state.user(name)
    assert duo_user is not None
    assert duo_user.phone == mobile

    # an opt-in realm: activating Duo already passes the prompt with the new phone
    page.get_by_role("button", name="Activate Duo").click()
    page.wait_for_url(f"https://{tenant.integration.api_host}/**")
    expect(page.locator("#push")).to_contain_text(mobile[-4:])
    page.get_by_role("button", name="Send Me a Push").click()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{bridge.url}/account/duo/?notice=activated")

    context = browser.new_context(ignore_https_errors=True)
    try:
        login = context.new_page()
        sign_in(login, tenant, name)
        login.wait_for_url(f"https://{tenant.integration.api_host}/**")
        expect(login.locator("#push")).to_contain_text(mobile[-4:])  # the phone added
        login.get_by_role("button", name="Send Me a Push").click()
        login.get_by_role("button", name="Approve").click()
        claims = tokens_for(login, tenant)
        assert claims["preferred_username"] == name
    finally:
        context.close()

    page.get_by_role("button", name=f"Remove mobile {masked}").click()
    page.wait_for_url(f"{bridge.url}/account/duo/?notice=phone-removed")
    expect(page.locator("#duo-devices-none")).to_be_visible()


def post(page: Page, bridge: Bridge, path: str, **form: str) -> tuple[int, str]:
    """A form POST from the signed-in page's own session, with its CSRF token."""
    csrf = page.locator('input[name="csrf"]').first.get_attribute("value") or ""
    response = page.request.post(
        f"{bridge.url}/account/duo{path}",
        form={"csrf": csrf, **form},
        headers={"Origin": bridge.url.rstrip("/")},
        max_redirects=0,
    )
    return response.status, response.text()


def test_a_user_cannot_touch_another_users_phone(  # noqa: PLR0917
    page: Page,
    phone_tenant: Callable[..., Tenant],
    bridge: Bridge,
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    duo_rest_options: RestOptions,
) -> None:
    """B's removal of A's phone is refused (404) and a forged username is ignored: A keeps
    the phone, and a number B registers goes to B."""
    tenant = phone_tenant("manage", user_mode="opt-in")
    a, b = unknown_to_duo(tenant), unknown_to_duo(tenant)
    ring = key_ring(stack_settings)
    added = phones.add_phone(
        admin_keycloak, tenant.realm, a, number(), ring=ring, options=duo_rest_options
    )
    open_account(page, bridge, tenant, b)
    status, text = post(page, bridge, "/phones/remove", phone_id=added.device.phone_id, username=a)
    assert status == 404, text
    assert phones.list_devices(
        admin_keycloak, tenant.realm, a, ring=ring, options=duo_rest_options
    ) == [added.device]
    status, _ = post(page, bridge, "/phones", number=number(), username=a)
    assert status == 303
    assert phones.list_devices(
        admin_keycloak, tenant.realm, a, ring=ring, options=duo_rest_options
    ) == [added.device]
    assert (
        len(
            phones.list_devices(
                admin_keycloak, tenant.realm, b, ring=ring, options=duo_rest_options
            )
        )
        == 1
    )


@pytest.mark.parametrize("allowed", ["off", "add"])
def test_a_realm_that_does_not_allow_it(  # noqa: PLR0917
    page: Page,
    phone_tenant: Callable[..., Tenant],
    bridge: Bridge,
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    duo_rest_options: RestOptions,
    allowed: str,
) -> None:
    """Where the realm says off, adding is refused (and not offered); where it says add,
    removing is refused (and not offered); Duo is left as it was."""
    tenant = phone_tenant(allowed, user_mode="opt-in")
    name = unknown_to_duo(tenant)
    ring = key_ring(stack_settings)
    open_account(page, bridge, tenant, name)
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)
    if allowed == "off":
        expect(page.get_by_role("button", name="Register phone")).to_have_count(0)
        page.goto(f"{bridge.url}/account/duo/")  # a page with a CSRF token: none without Duo
        status, text = post(page, bridge, "/phones", number=number())
        assert (status, "does not let users register" in text) == (403, True)
        assert tenant.emulator.state.user(name) is None
        return
    added = phones.add_phone(
        admin_keycloak, tenant.realm, name, number(), ring=ring, options=duo_rest_options
    )
    page.reload()
    expect(page.locator("#duo-devices")).to_contain_text(added.device.masked)
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)
    status, text = post(page, bridge, "/phones/remove", phone_id=added.device.phone_id)
    assert (status, "does not let users remove" in text) == (403, True)
    assert phones.list_devices(
        admin_keycloak, tenant.realm, name, ring=ring, options=duo_rest_options
    ) == [added.device]


def test_the_partner_page_shows_the_admin_link_only_as_linked(
    page: Page, provider: Provider, link_partner: LinkPartner
) -> None:
    """The partner's console page says "not linked", then "linked", never the link's keys."""
    page.goto(f"{provider.bridge.url}/admin/")
    page.get_by_label("Realm").fill(provider.partner)
    page.get_by_role("button", name="Sign in with Keycloak").click()
    keycloak_sign_in(page, provider.admin_user)
    page.wait_for_url(f"{provider.bridge.url}/admin/")
    page.goto(f"{provider.bridge.url}/admin/tenants/{provider.partner}")
    expect(page.locator("#admin-link")).to_contain_text("not linked")
    creds = link_partner(provider.partner)
    page.reload()
    expect(page.locator("#admin-link strong")).to_have_text("linked")
    assert creds.ikey not in page.content()
    assert creds.skey not in page.content()
    assert axe_violations(page) == []


def test_when_duo_refuses_the_page_says_so_and_nothing_changes(
    page: Page, phone_tenant: Callable[..., Tenant], bridge: Bridge
) -> None:
    """A link that may not read or write users: the phones cannot be shown, and registering
    or removing says Duo could not, with no detail for the user."""
    tenant = phone_tenant("manage", permissions=[], user_mode="opt-in")
    name = unknown_to_duo(tenant)
    open_account(page, bridge, tenant, name)
    expect(page.locator("#phones-unavailable")).to_be_visible()
    status, text = post(page, bridge, "/phones", number=number())
    assert (status, "Duo could not register" in text, "Grant" in text) == (502, True, False)
    status, text = post(page, bridge, "/phones/remove", phone_id="DP" + "X" * 18)
    assert (status, "Duo could not remove" in text) == (502, True)
    assert tenant.emulator.state.user(name) is None
