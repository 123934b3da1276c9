"""The prompt page in headless Chromium: enrol, push approve, push deny, passcode."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from duo_universal.client import Client
from playwright.sync_api import Page

from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from tests.emulator.helpers import sdk_client
from tests.fixtures_console import axe_violations

pytestmark = [
    pytest.mark.browser,
    # duo_universal signs with Duo's 40-character secrets; PyJWT's length advice is moot.
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]


def _login(
    page: Page, emulator: RunningEmulator, app: IntegrationCredentials, username: str
) -> tuple[str, Client]:
    client = sdk_client(emulator, app)
    state = client.generate_state()
    page.goto(client.create_auth_url(username, state))
    return state, client


def _exchange(page: Page, client: Client, state: str, username: str) -> dict[str, Any]:
    page.wait_for_url("https://app.example/**")
    assert page.inner_text("h1") == "back at the app"
    callback = httpx2.URL(page.url)
    assert callback.params["state"] == state
    claims: dict[str, Any] = client.exchange_authorization_code_for_2fa_result(
        callback.params["duo_code"], username
    )
    return claims


def test_enrol_and_approve(
    page: Page, duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """A new user registers a phone (E.164 checked), then approves the push: allow."""
    state, client = _login(page, duo_emulator, duo_integration, "browser-enrol")
    page.get_by_text("Protect your account").wait_for()
    page.fill("#phone", "555-0100")
    page.click("#enroll")
    assert "international format" in page.inner_text("#message")
    page.fill("#phone", "+1 415 555 0123")
    page.click("#enroll")
    page.click("#push")
    assert "XXX-XXX-0123" in page.inner_text("#pushed")
    page.click("#approve")
    claims = _exchange(page, client, state, "browser-enrol")
    assert claims["auth_result"]["status"] == "allow"
    user = duo_emulator.control.user("browser-enrol")
    assert (user["enrolled"], user["phone"]) == (True, "+14155550123")


def test_push_deny(
    page: Page, duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """Denying the push shows Duo's denial, and the token never says allow."""
    duo_emulator.control.set_user("browser-deny", enrolled=True, phone="+15555550100")
    state, client = _login(page, duo_emulator, duo_integration, "browser-deny")
    page.click("#push")
    page.click("#deny")
    assert page.inner_text("#denied") == "Access denied"
    page.click("#return")
    claims = _exchange(page, client, state, "browser-deny")
    assert claims["auth_result"]["status"] == "deny"
    assert claims["auth_context"]["result"] == "denied"


def test_passcode(
    page: Page, duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """The passcode shown by the control API logs the user in; a wrong one is refused."""
    user = duo_emulator.control.set_user("browser-code", enrolled=True)
    state, client = _login(page, duo_emulator, duo_integration, "browser-code")
    page.fill("#passcode", "999999" if user["passcode"] != "999999" else "111111")
    page.click("#verify")
    assert page.inner_text("#message") == "Incorrect passcode. Try again."
    page.fill("#passcode", user["passcode"])
    page.click("#verify")
    claims = _exchange(page, client, state, "browser-code")
    assert claims["auth_context"]["factor"] == "duo_mobile_passcode"


def test_back_after_approving_says_one_thing(
    page: Page, duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """Back from the application to the finished prompt shows one message: login finished."""
    duo_emulator.control.set_user("browser-back", enrolled=True, phone="+15555550100")
    state, client = _login(page, duo_emulator, duo_integration, "browser-back")
    page.click("#push")
    page.click("#approve")
    _exchange(page, client, state, "browser-back")
    page.go_back()
    assert page.inner_text("h1") == "Login finished"
    text = page.inner_text("main")
    assert "already finished" in text
    assert "invalid request" not in text
    assert "expired" not in text


def test_passcode_help_leads_to_the_passcode(
    page: Page, duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """The passcode help's link opens the control API entry; its passcode signs the user in."""
    duo_emulator.control.set_user("browser-help", enrolled=True)
    state, client = _login(page, duo_emulator, duo_integration, "browser-help")
    assert "Duo Mobile app" in page.inner_text("#passcode-help")
    with page.context.expect_page() as opened:
        page.click("#passcode-source")
    entry = opened.value
    entry.wait_for_load_state()
    passcode = json.loads(entry.inner_text("body"))["passcode"]
    entry.close()
    page.fill("#passcode", passcode)
    page.click("#verify")
    claims = _exchange(page, client, state, "browser-help")
    assert claims["auth_context"]["factor"] == "duo_mobile_passcode"


def test_pages_pass_axe(
    page: Page, duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """axe-core finds no WCAG 2.1 A/AA problem on the home page or any step of the prompt."""
    page.goto(f"{duo_emulator.base_url}/")
    assert axe_violations(page) == []
    duo_emulator.control.set_user("browser-axe", enrolled=True, phone="+15555550100")
    _login(page, duo_emulator, duo_integration, "browser-axe")
    assert axe_violations(page) == []  # the factor choice, with the passcode help
    page.click("#push")
    assert axe_violations(page) == []
    page.click("#deny")
    assert axe_violations(page) == []
    _login(page, duo_emulator, duo_integration, "browser-axe-new")
    assert axe_violations(page) == []  # enrolment
    page.goto(f"{duo_emulator.base_url}/frame/prompt/gone")
    assert axe_violations(page) == []
