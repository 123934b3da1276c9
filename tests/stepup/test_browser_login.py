"""Duo before tokens: the step-up flow end to end, in headless Chromium, on real Keycloak."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import jwt
import pytest
from playwright.sync_api import Page

from tests.fixtures_bridge import APP_ID, APP_REDIRECT, PASSWORD, Bridge, Tenant, TenantFactory
from tests.fixtures_browser import screenshot

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


def auth_url(tenant: Tenant, **extra: str) -> str:
    query = {
        "client_id": APP_ID,
        "redirect_uri": APP_REDIRECT,
        "response_type": "code",
        "scope": "openid",
        "state": "st-12345",
        **extra,
    }
    base = tenant.settings.keycloak_url
    return f"{base}/realms/{tenant.realm}/protocol/openid-connect/auth?{urlencode(query)}"


def sign_in(page: Page, tenant: Tenant, username: str, **extra: str) -> None:
    page.goto(auth_url(tenant, **extra))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#kc-login")


def tokens_for(page: Page, tenant: Tenant) -> dict[str, object]:
    """Exchange the code the app received for tokens, and decode the ID token."""
    page.wait_for_url(f"{APP_REDIRECT}**")
    code = parse_qs(urlsplit(page.url).query)["code"][0]
    response = httpx2.post(
        f"{tenant.settings.keycloak_url}/realms/{tenant.realm}/protocol/openid-connect/token",
        data={
            "grant_type": "authorization_code",
            "client_id": APP_ID,
            "redirect_uri": APP_REDIRECT,
            "code": code,
        },
    )
    assert response.status_code == 200, response.text
    claims: dict[str, object] = jwt.decode(
        response.json()["id_token"], options={"verify_signature": False}
    )
    return claims


def test_approve_gives_tokens_with_duo_claims(
    page: Page, duo_tenant: TenantFactory, bridge: Bridge
) -> None:
    """Password, then Duo's prompt, approve: the app gets a code, and tokens carry the Duo claims."""
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
