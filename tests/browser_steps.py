"""Steps a person takes in Chromium to sign in to the demo application, for browser tests.

Not a test module: test modules import these instead of importing each other.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import jwt
from playwright.sync_api import Page

from tests.fixtures_bridge import APP_ID, PASSWORD, Tenant


def auth_url(tenant: Tenant, **extra: str) -> str:
    query = {
        "client_id": APP_ID,
        "redirect_uri": tenant.redirect_uri,
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


def tokens_for(page: Page, tenant: Tenant, client_id: str = APP_ID) -> dict[str, object]:
    """Exchange the code the app received for tokens, and decode the ID token."""
    page.wait_for_url(f"{tenant.redirect_uri}**")
    code = parse_qs(urlsplit(page.url).query)["code"][0]
    response = httpx2.post(
        f"{tenant.settings.keycloak_url}/realms/{tenant.realm}/protocol/openid-connect/token",
        data={
            "grant_type": "authorization_code",
            "client_id": client_id,
            "redirect_uri": tenant.redirect_uri,
            "code": code,
        },
    )
    assert response.status_code == 200, response.text
    claims: dict[str, object] = jwt.decode(
        response.json()["id_token"], options={"verify_signature": False}
    )
    return claims


def visits_duo(page: Page, tenant: Tenant) -> list[str]:
    """Record every Duo URL the page visits."""
    seen: list[str] = []
    page.on(
        "request", lambda r: seen.append(r.url) if tenant.integration.api_host in r.url else None
    )
    return seen


def device_sign_in(page: Page, verification_uri: str, user_code: str, username: str) -> None:
    """On "another device": open the verification URI, enter the code, sign in."""
    page.goto(verification_uri)
    page.fill("input[name=device_user_code]", user_code)
    page.click("#kc-login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#kc-login")


def device_grant_consent(page: Page) -> None:
    """Keycloak asks consent for a device login: grant it, and see it succeed."""
    page.locator("#kc-login").click()
    page.get_by_text("Device Login Successful").wait_for()
