"""A person tries the demo in a browser: alice approves a push, bob enrols a phone first,
alice signs out, and the pages fit a phone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from keycloak_duo_bridge.sandbox import stack as demo
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.settings import load_settings
from tests.fixtures_browser import screenshot
from tests.fixtures_console import axe_violations

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


@pytest.fixture(scope="module")
def running(keycloak_sandbox: SandboxKeycloak) -> Iterator[demo.Stack]:
    """The demo stack next to the session's Keycloak, on free ports."""
    sandbox = keycloak_sandbox.settings
    settings = load_settings(
        state_dir=sandbox.state_dir,
        sandbox_http_port=sandbox.sandbox_http_port,
        sandbox_management_port=sandbox.sandbox_management_port,
        bridge_port=free_port(),
        demo_app_port=free_port(),
        demo_duo_port=free_port(),
    )
    stack = demo.start(settings, progress=lambda _message: None)
    yield stack
    stack.close(progress=lambda _message: None)


def sign_in(page: Page, running: demo.Stack, username: str) -> None:
    page.goto(f"{running.app_url}/")
    page.get_by_role("link", name="Sign in to the demo application").click()
    page.fill("#username", username)
    page.fill("#password", running.passwords[username])
    page.click("#kc-login")


def test_alice_approves_a_push(page: Page, running: demo.Stack) -> None:
    """alice (enrolled) signs in, approves the push, and the app shows her Duo claims."""
    running.emulator.control.set_user("alice", behavior="prompt", enrolled=True)
    sign_in(page, running, "alice")
    page.click("#push")
    page.click("#approve")
    page.get_by_text("Signed in as").wait_for()
    assert "alice" in page.content()
    assert '"result": "allow"' in page.inner_text("pre")
    link = page.locator("#self-service").get_attribute("href") or ""
    assert link.endswith("/account/duo/?realm=globex")  # the demo links to her own Duo page
    screenshot(page, "demo-app-signed-in")


def test_bob_enrols_then_approves(page: Page, running: demo.Stack) -> None:
    """bob (not enrolled) registers a phone in the prompt, approves, and is signed in."""
    sign_in(page, running, "bob")
    page.fill("#phone", "+44 20 7946 0958")
    page.click("#enroll")
    page.click("#push")
    page.click("#approve")
    page.get_by_text("Signed in as").wait_for()
    assert "bob" in page.content()


def test_sign_out_ends_both_sessions(page: Page, running: demo.Stack) -> None:
    """Sign-out lands on a page that says so, and signing in again asks for the password."""
    running.emulator.control.set_user("alice", behavior="allow", enrolled=True)
    try:
        sign_in(page, running, "alice")
        page.get_by_text("Signed in as").wait_for()
        page.click("#sign-out")
        page.wait_for_url(f"{running.app_url}/signed-out")
        assert page.inner_text("h1") == "Signed out"
        assert "signed out of the demo application and of Keycloak" in page.inner_text("main")
        page.get_by_role("link", name="Sign in to the demo application").click()
        page.locator("#password").wait_for()  # Keycloak's session ended: a password again
    finally:
        running.emulator.control.set_user("alice", behavior="prompt", enrolled=True)


def test_reloading_the_callback(page: Page, running: demo.Stack) -> None:
    """Opening a used callback URL again explains itself instead of showing Keycloak's JSON."""
    running.emulator.control.set_user("alice", behavior="allow", enrolled=True)
    codes: list[str] = []
    page.on(
        "request",
        lambda request: codes.append(request.url) if "/callback?" in request.url else None,
    )
    try:
        sign_in(page, running, "alice")
        page.get_by_text("Signed in as").wait_for()
        page.goto(codes[-1])
        assert "already used" in page.inner_text("main")
        assert "invalid_grant" not in page.content()
        page.get_by_role("link", name="Back to the application").click()
        page.get_by_text("Signed in as").wait_for()
    finally:
        running.emulator.control.set_user("alice", behavior="prompt", enrolled=True)


def test_demo_app_fits_a_phone(page: Page, running: demo.Stack) -> None:
    """At 390 px the signed-in and signed-out pages fit the screen and pass axe-core."""
    page.set_viewport_size({"width": 390, "height": 844})
    running.emulator.control.set_user("alice", behavior="allow", enrolled=True)
    try:
        sign_in(page, running, "alice")
        page.get_by_text("Signed in as").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert axe_violations(page) == []
        screenshot(page, "demo-app-phone", full_page=True)
        page.click("#sign-out")
        page.wait_for_url(f"{running.app_url}/signed-out")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert axe_violations(page) == []
    finally:
        running.emulator.control.set_user("alice", behavior="prompt", enrolled=True)


def test_callback_without_a_code(page: Page, running: demo.Stack) -> None:
    """The app says so when it is called back without a code."""
    page.goto(f"{running.app_url}/callback?error_description=denied+by+test")
    assert "denied by test" in page.content()
