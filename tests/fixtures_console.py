"""The console in the browser and over raw HTTP: realm administrators, tenants without Duo
yet, signing in and carrying the session to raw requests, and axe-core."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Page

from keycloak_duo_bridge.admin import console_client, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.console.state import ADMIN
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.settings import Settings
from tests.fixtures_bridge import APP2_ID, APP_ID, PASSWORD, Bridge

AXE = Path(__file__).resolve().parent / "accessibility/node_modules/axe-core/axe.min.js"


@dataclass
class Provider:
    """A partner with one client realm (Duo not set up yet), two apps and a partner admin."""

    partner: str
    client: str
    admin_user: str
    integration: IntegrationCredentials
    settings: Settings
    bridge: Bridge
    redirect_uri: str

    def user(self, emulator: RunningEmulator, name: str, **duo: Any) -> str:
        """An end user of the client realm, and how Duo will treat them."""
        user_id = provision.ensure_user(self.settings, self.client, name, PASSWORD)
        emulator.control.set_user(name, **duo)
        return user_id


@pytest.fixture
def provider(
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    bridge: Bridge,
    duo_emulator: RunningEmulator,
    app_redirect: str,
) -> Provider:
    """A fresh partner ``pp-…`` with client ``pc-…``: Duo off, no credentials, two apps."""
    suffix = uuid.uuid4().hex[:8]
    partner, client = f"pp-{suffix}", f"pc-{suffix}"
    tenants.create_partner(admin_keycloak, partner, display_name=f"Partner {suffix}")
    tenants.create_client(admin_keycloak, client, partner=partner, display_name=f"Client {suffix}")
    for realm in (partner, client):  # their console clients, for this session's bridge
        console_client.ensure(admin_keycloak, realm, bridge.url)
    for app in (APP_ID, APP2_ID):
        provision.ensure_app(stack_settings, client, app, app_redirect)
    provision.ensure_realm_admin(stack_settings, partner, "padmin", PASSWORD)
    return Provider(
        partner,
        client,
        "padmin",
        duo_emulator.control.add_integration(),
        stack_settings,
        bridge,
        app_redirect,
    )


def keycloak_sign_in(page: Page, username: str) -> None:
    """Fill Keycloak's login form with the test password (a realm with organizations asks
    for the username first)."""
    page.fill("#username", username)
    if page.locator("#password").count() == 0:
        page.click("#kc-login")
    page.fill("#password", PASSWORD)
    page.click("#kc-login")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2 A/AA rules) on the page; its violations, each with its nodes."""
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, {
            runOnly: {type: "tag",
                      values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
        })).violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                  nodes: v.nodes.map(n => n.target.join(" "))}))"""
    )
    return found


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def assert_secure_headers(response: httpx2.Response) -> None:
    """The console's headers: a CSP without scripts or framing, no sniffing, no frames."""
    csp = response.headers["content-security-policy"]
    directives = dict(d.strip().partition(" ")[::2] for d in csp.split(";"))
    assert directives["default-src"] == "'none'", csp
    assert directives["frame-ancestors"] == "'none'", csp
    assert "script-src" not in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


@dataclass
class Browserless:
    """Raw requests to the bridge, optionally carrying a session cookie."""

    bridge_url: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def _send(
        self, method: str, path: str, headers: dict[str, str], **kwargs: Any
    ) -> httpx2.Response:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = httpx2.request(
            method,
            self.bridge_url.rstrip("/") + path,
            headers={**({"Cookie": cookie} if cookie else {}), **headers},
            follow_redirects=False,
            timeout=30,
            **kwargs,
        )
        assert_secure_headers(response)
        return response

    def get(self, path: str) -> httpx2.Response:
        return self._send("GET", path, {})

    def post(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        csrf: str | None = None,
        origin: str | None = None,
    ) -> httpx2.Response:
        """A form POST as the page sends it: this session's CSRF token, the bridge's Origin."""
        form = {"csrf": self.csrf if csrf is None else csrf, **(data or {})}
        if csrf == "":
            form.pop("csrf")
        headers = {"Origin": origin or self.bridge_url.rstrip("/")}
        return self._send("POST", path, headers, data=form)


def sign_in(
    page: Page,
    bridge: Bridge,
    part: str,
    realm: str,
    username: str,
    *,
    password: str = PASSWORD,
) -> Browserless:
    """Sign in with the browser, then carry its session cookie to raw requests."""
    base = "/admin" if part == ADMIN else "/account/duo"
    page.goto(f"{bridge.url}{base}/login?realm={realm}")
    if password == PASSWORD:
        keycloak_sign_in(page, username)
    else:
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("#kc-login")
    page.wait_for_url(f"{bridge.url}{base}/")
    name = f"kdb_{part}_session"
    cookie = next(c for c in page.context.cookies() if c["name"] == name)
    client = Browserless(bridge.url, {name: cookie["value"]})
    match = CSRF.search(client.get(f"{base}/").text)
    assert match is not None
    client.csrf = match.group(1)
    return client


def sign_in_as_master(page: Page, bridge: Bridge, settings: Settings) -> Browserless:
    """Sign in to the console as the sandbox's admin, in realm master."""
    return sign_in(
        page,
        bridge,
        ADMIN,
        "master",
        settings.keycloak_admin_username,
        password=settings.keycloak_admin_password.get_secret_value(),
    )


def location(response: httpx2.Response) -> str:
    assert response.status_code in {302, 303}, response.text
    return response.headers["location"]
