"""A relying party as an application would write one: Authlib for OAuth, joserfc for the ID
token. Fixtures for the assurance tests (acr, amr, step-up)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.sync_api import Page

from keycloak_duo_bridge.admin import duo_settings, wiring
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.settings import Settings
from tests.fixtures_bridge import APP_ID, PASSWORD, Bridge, Tenant, TenantFactory


@dataclass
class SignIn:
    """What the application saw of one sign-in: validated ID token claims, and Duo's hops."""

    claims: dict[str, Any]
    duo_hops: list[str] = field(default_factory=list)
    asked_password: bool = False

    @property
    def amr(self) -> list[str]:
        return [str(v) for v in self.claims.get("amr") or []]


@dataclass
class RelyingParty:
    """An OIDC application: builds the authorization request with Authlib, lets Chromium sign
    in, redeems the code and validates the ID token (signature, issuer, audience, nonce, and
    the ``acr`` it asked for as an essential claim)."""

    tenant: Tenant
    page: Page
    client_id: str = APP_ID
    _seen: list[str] = field(default_factory=list)

    def _base(self) -> str:
        return f"{self.tenant.settings.keycloak_url}/realms/{self.tenant.realm}"

    def sign_in(self, username: str, *, essential_acr: str | None = None, **extra: str) -> SignIn:
        """Sign ``username`` in with ``extra`` authorization parameters (``acr_values``,
        ``max_age``, ``claims``...); the person types the password when Keycloak asks."""
        base = f"{self._base()}/protocol/openid-connect"
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        with OAuth2Client(
            client_id=self.client_id,
            redirect_uri=self.tenant.redirect_uri,
            scope="openid",
            code_challenge_method="S256",
        ) as client:
            url, _ = client.create_authorization_url(
                f"{base}/auth", nonce=nonce, code_verifier=verifier, **extra
            )
            asked = self._browse(url, username)
            token = client.fetch_token(
                f"{base}/token", authorization_response=self.page.url, code_verifier=verifier
            )
        claims = self.validate(str(token["id_token"]), nonce, essential_acr)
        return SignIn(claims, self._seen, asked)

    def _browse(self, url: str, username: str) -> bool:
        """Chromium from the authorization URL to the application; whether it asked the
        password. The Duo URLs it visits are kept in ``_seen``."""
        seen: list[str] = []
        self._seen = seen

        def record(request: Any) -> None:
            if self.tenant.integration.api_host in request.url:
                seen.append(request.url)

        self.page.on("request", record)
        try:
            self.page.goto(url)
            asked = False
            if (
                self.page.url.startswith(self.tenant.settings.keycloak_url)
                and self.page.locator("#password").count()
            ):
                asked = True
                self._type_password(username)
            self.page.wait_for_url(f"{self.tenant.redirect_uri}**")
        finally:
            self.page.remove_listener("request", record)
        return asked

    def _type_password(self, username: str) -> None:
        """Keycloak's login form; a re-authentication shows the username, not its field."""
        if self.page.locator("#username").count():
            self.page.fill("#username", username)
        self.page.fill("#password", PASSWORD)
        self.page.click("#kc-login")

    def refused(self, username: str, **extra: str) -> str:
        """Sign in where Keycloak refuses: the text of the page the person is left on."""
        with OAuth2Client(
            client_id=self.client_id, redirect_uri=self.tenant.redirect_uri
        ) as client:
            url, _ = client.create_authorization_url(
                f"{self._base()}/protocol/openid-connect/auth", scope="openid", **extra
            )
        self.page.goto(url)
        if self.page.locator("#password").count():
            self._type_password(username)
        self.page.wait_for_selector("text=Try again")
        assert not self.page.url.startswith(self.tenant.redirect_uri)
        return self.page.inner_text("body")

    def validate(self, id_token: str, nonce: str, essential_acr: str | None) -> dict[str, Any]:
        with httpx.Client() as http:
            jwks = http.get(f"{self._base()}/protocol/openid-connect/certs").json()
        decoded = jwt.decode(id_token, KeySet.import_key_set(jwks))
        rules: dict[str, Any] = {
            "iss": {"essential": True, "value": self._base()},
            "aud": {"essential": True, "value": self.client_id},
            "nonce": {"essential": True, "value": nonce},
        }
        if essential_acr is not None:
            rules["acr"] = {"essential": True, "values": [essential_acr]}
        jwt.JWTClaimsRegistry(**rules).validate(decoded.claims)
        return dict(decoded.claims)


AssuranceTenant = Callable[..., Tenant]


@pytest.fixture
def step_up_tenant(
    duo_tenant: TenantFactory, admin_keycloak: Keycloak, stack_settings: Settings, bridge: Bridge
) -> AssuranceTenant:
    """``duo_tenant`` with the realm's assurance set (``step-up`` unless told)."""

    def make(assurance: str = "step-up", **policy: object) -> Tenant:
        tenant = duo_tenant(**policy)
        wires = wiring.Wiring.of(stack_settings, bridge.url)
        duo_settings.set_enabled(
            admin_keycloak, tenant.realm, enabled=True, wires=wires, assurance=assurance
        )
        return tenant

    return make


@pytest.fixture
def relying_party(page: Page) -> Callable[..., RelyingParty]:
    """An OIDC application for a tenant, signing in through ``page`` (one browser profile)."""

    def make(tenant: Tenant, client_id: str = APP_ID) -> RelyingParty:
        return RelyingParty(tenant, page, client_id)

    return make
