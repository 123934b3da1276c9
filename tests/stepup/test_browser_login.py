"""Duo before tokens: the step-up flow end to end, in headless Chromium, on real Keycloak."""

from __future__ import annotations

import httpx2
import pytest
from playwright.sync_api import Browser, Page

from keycloak_duo_bridge.admin import apps, duo_settings, users
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.settings import key_ring
from tests.browser_steps import auth_url, sign_in, tokens_for, visits_duo
from tests.fixtures_bridge import (
    APP2_ID,
    APP_ID,
    PASSWORD,
    Bridge,
    Tenant,
    TenantFactory,
)
from tests.fixtures_browser import screenshot
from tests.fixtures_console import axe_violations

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


class _AnyTime:
    """Equal to any positive epoch-seconds string."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.isdigit() and int(other) > 0

    def __hash__(self) -> int:
        return 0


ANY_TIME = _AnyTime()


def tenant_keycloak(tenant: Tenant) -> Keycloak:
    return Keycloak.from_settings(tenant.settings)


def test_approve_gives_tokens_with_duo_claims(
    page: Page, duo_tenant: TenantFactory, bridge: Bridge
) -> None:
    """Password, Duo prompt, approve: the app gets a code; tokens carry the Duo claims."""
    tenant = duo_tenant()
    tenant.user("alice", behavior="prompt", enrolled=True)
    sign_in(page, tenant, "alice")
    page.wait_for_url(f"https://{tenant.integration.api_host}/**")
    screenshot(page, "step-up-duo-prompt")
    page.get_by_role("button", name="Send Me a Push").click()
    page.get_by_role("button", name="Approve").click()
    claims = tokens_for(page, tenant)
    duo = claims["duo"]
    assert isinstance(duo, dict)
    assert duo["result"] == "allow"
    assert duo["factor"]
    assert duo["txid"]
    assert int(duo["time"]) > 0
    screenshot(page, "step-up-back-at-app")


def test_deny_gives_no_code_an_error_page_and_an_event(
    page: Page, duo_tenant: TenantFactory
) -> None:
    """Deny at Duo: no code reaches the app, Keycloak shows an error page with "Try again" and
    "Back to the application" (the client's base URL), and logs an error."""
    tenant = duo_tenant()
    admin = tenant.admin()
    home = tenant.redirect_uri.rsplit("/", 1)[0] + "/home"
    admin.update_client(str(admin.get_client_id(APP_ID)), {"baseUrl": home})
    tenant.user("dave", behavior="prompt", enrolled=True)
    sign_in(page, tenant, "dave")
    page.get_by_role("button", name="Send Me a Push").click()
    page.get_by_role("button", name="Deny").click()
    page.get_by_role("button", name="Return to the application").click()
    page.wait_for_url(f"{tenant.settings.keycloak_url}/**")
    page.get_by_text("Duo denied the sign-in.").wait_for()
    assert not page.url.startswith(tenant.redirect_uri)
    assert page.get_by_role("link", name="Back to the application").get_attribute("href") == home
    screenshot(page, "step-up-denied")
    [error] = tenant.events("CUSTOM_REQUIRED_ACTION_ERROR")
    assert error["error"] == "duo_denied"
    page.get_by_role("link", name="Try again").click()
    page.locator("#password").wait_for()  # the login starts again, from the password


def test_a_used_step_up_url_says_so_and_offers_a_way_back(
    page: Page, duo_tenant: TenantFactory, bridge: Bridge
) -> None:
    """Back to the step-up URL after the login: a styled, accessible page says the step was
    already used and offers to start again; Duo is not asked a second time."""
    tenant = duo_tenant()
    tenant.user("uma")
    step_ups: list[str] = []
    page.on("request", lambda r: step_ups.append(r.url) if "/step-up?" in r.url else None)
    sign_in(page, tenant, "uma")
    tokens_for(page, tenant)
    [step_up] = step_ups
    duo = visits_duo(page, tenant)
    page.goto(step_up)
    assert page.get_by_role("heading", level=1).inner_text() == "This sign-in step was already used"
    assert page.get_by_role("link", name="Start sign-in again").count() == 1
    assert "cookie" not in page.content()
    assert duo == []
    assert axe_violations(page) == []
    screenshot(page, "bridge-already-used", full_page=True)


def test_app_switched_off_has_no_duo_hop(page: Page, duo_tenant: TenantFactory) -> None:
    """An application with mode off gets its code without any Duo hop."""
    tenant = duo_tenant()
    tenant.user("erin")
    apps.set_mode(tenant_keycloak(tenant), tenant.realm, APP_ID, "off")
    duo = visits_duo(page, tenant)
    sign_in(page, tenant, "erin")
    claims = tokens_for(page, tenant)
    assert duo == []
    assert "duo" not in claims


def test_sso_within_the_remember_window_skips_a_second_prompt(
    page: Page, duo_tenant: TenantFactory
) -> None:
    """SSO into a second Duo app in the same session: no second prompt (remember: session)."""
    tenant = duo_tenant()
    tenant.user("frank")
    duo = visits_duo(page, tenant)
    sign_in(page, tenant, "frank")
    tokens_for(page, tenant)
    prompts = len(duo)
    assert prompts > 0
    page.goto(auth_url(tenant, client_id=APP2_ID))
    claims = tokens_for(page, tenant, client_id=APP2_ID)
    assert len(duo) == prompts
    assert claims["duo"]["result"] == "allow"  # type: ignore[index]


def test_every_login_prompts_again(page: Page, duo_tenant: TenantFactory) -> None:
    """With remember set to every-login, SSO into a second app prompts again."""
    tenant = duo_tenant(remember="every-login")
    tenant.user("grace")
    duo = visits_duo(page, tenant)
    sign_in(page, tenant, "grace")
    tokens_for(page, tenant)
    prompts = len(duo)
    page.goto(auth_url(tenant, client_id=APP2_ID))
    tokens_for(page, tenant, client_id=APP2_ID)
    assert len(duo) > prompts


def test_opt_in_realm(page: Page, browser: Browser, duo_tenant: TenantFactory) -> None:
    """Opt-in: not activated passes without Duo; activated enrols at the prompt and passes."""
    tenant = duo_tenant(user_mode="opt-in")
    tenant.user("heidi")
    tenant.user("ivan", behavior="prompt", enrolled=False)
    users.set_activated(tenant_keycloak(tenant), tenant.realm, "ivan", activated=True)
    duo = visits_duo(page, tenant)
    sign_in(page, tenant, "heidi")
    claims = tokens_for(page, tenant)
    assert duo == []
    assert claims["duo"] == {"result": "skip", "reason": "not_activated", "time": ANY_TIME}
    other = browser.new_context(ignore_https_errors=True)
    second = other.new_page()
    sign_in(second, tenant, "ivan")
    second.fill("#phone", "+1 555 010 0199")
    screenshot(second, "step-up-enrolment")
    second.click("#enroll")
    second.get_by_role("button", name="Send Me a Push").click()
    second.get_by_role("button", name="Approve").click()
    assert tokens_for(second, tenant)["duo"]["result"] == "allow"  # type: ignore[index]
    other.close()


def test_bypass_group_member_passes_and_the_event_says_so(
    page: Page, duo_tenant: TenantFactory
) -> None:
    """A member of a bypass group passes without Duo; the login event records the bypass."""
    tenant = duo_tenant(bypass_groups=["/break-glass"])
    user_id = tenant.user("judy")
    admin = tenant.admin()
    group_id = admin.create_group({"name": "break-glass"})
    admin.group_user_add(user_id, str(group_id))
    duo = visits_duo(page, tenant)
    sign_in(page, tenant, "judy")
    claims = tokens_for(page, tenant)
    assert duo == []
    assert claims["duo"]["reason"] == "bypass_group"  # type: ignore[index]
    passed = tenant.events("CUSTOM_REQUIRED_ACTION")
    assert passed[0]["details"]["duo_result"] == "skip"
    assert passed[0]["details"]["duo_reason"] == "bypass_group"


@pytest.mark.parametrize("fault", ["error_500", "timeout"])
def test_outage_with_fail_mode_closed_is_refused(
    page: Page, duo_tenant: TenantFactory, fault: str
) -> None:
    """Duo down (5xx or timed out) with fail mode closed: the login is refused, saying why."""
    tenant = duo_tenant()
    tenant.user("ken")
    tenant.emulator.control.set_faults(health=fault)  # type: ignore[arg-type]
    try:
        sign_in(page, tenant, "ken")
        page.get_by_text("Duo is unavailable").wait_for()
        assert page.get_by_role("link", name="Try again").count() == 1
        assert page.get_by_role("link", name="Back to the application").count() == 0  # no URL
    finally:
        tenant.emulator.control.set_faults()
    [error] = tenant.events("CUSTOM_REQUIRED_ACTION_ERROR")
    assert error["error"] == "duo_unavailable"


def test_outage_with_fail_mode_open_passes_as_bypass(page: Page, duo_tenant: TenantFactory) -> None:
    """Duo down with fail mode open: the login passes, marked bypass in tokens and events."""
    tenant = duo_tenant(fail_mode="open")
    tenant.user("lena")
    tenant.emulator.control.set_faults(health="error_500")
    try:
        sign_in(page, tenant, "lena")
        claims = tokens_for(page, tenant)
    finally:
        tenant.emulator.control.set_faults()
    assert claims["duo"]["result"] == "bypass"  # type: ignore[index]
    assert claims["duo"]["reason"] == "duo_unavailable"  # type: ignore[index]
    assert tenant.events("CUSTOM_REQUIRED_ACTION")[0]["details"]["duo_result"] == "bypass"


def test_wrong_skey_is_refused_even_with_fail_mode_open(
    page: Page, duo_tenant: TenantFactory
) -> None:
    """A wrong skey is a configuration fault: refused even when the realm fails open."""
    tenant = duo_tenant(fail_mode="open")
    tenant.user("mike")
    duo_settings.set_credentials(
        tenant_keycloak(tenant),
        tenant.realm,
        ikey=tenant.integration.client_id,
        skey="W" * 40,
        api_host=tenant.integration.api_host,
        ring=key_ring(tenant.settings),
        health=None,
    )
    sign_in(page, tenant, "mike")
    page.get_by_text("misconfigured").wait_for()
    assert page.get_by_role("link", name="Try again").count() == 1
    [error] = tenant.events("CUSTOM_REQUIRED_ACTION_ERROR")
    assert error["error"] == "duo_config_fault"


def test_application_initiated_step_up(page: Page, duo_tenant: TenantFactory) -> None:
    """kc_action=duo-step-up from a logged-in app: prompt, then back to the app."""
    tenant = duo_tenant()
    tenant.user("nina")
    sign_in(page, tenant, "nina")
    tokens_for(page, tenant)
    tenant.emulator.control.set_user("nina", behavior="prompt", enrolled=True)
    page.goto(auth_url(tenant, kc_action="duo-step-up"))
    page.get_by_role("button", name="Send Me a Push").click()
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{tenant.redirect_uri}**")
    assert "kc_action_status=success" in page.url


def test_direct_grant_is_refused_naming_the_reason(duo_tenant: TenantFactory) -> None:
    """A password grant to a Duo-required app is refused, never a silent pass."""
    tenant = duo_tenant()
    tenant.user("oscar")
    response = httpx2.post(
        f"{tenant.settings.keycloak_url}/realms/{tenant.realm}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": APP_ID,
            "username": "oscar",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "Account is not fully set up",
    }
