"""The console in the browser: realm administrators, tenants without Duo yet, and axe-core."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from keycloak_duo_bridge.admin import console_client, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
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
    """Fill Keycloak's login form with the test password."""
    page.fill("#username", username)
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
