"""Fixtures for Duo's Auth API and CIBA (issue #16): fresh Auth API credentials at the
session emulator, a bridge where the sandbox Keycloak's CIBA channel points, and tenants with
a CIBA client, driven as a CIBA client would (poll mode)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import auth_api_settings, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.server import start_bridge
from keycloak_duo_bridge.serving import ServerThread
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.fixtures_bridge import Bridge, Tenant, tenant_factory

CIBA_CLIENT = "ciba-cli"
CIBA_SECRET = "ciba-client-secret-for-tests"
PHONE = "+14155550123"


@pytest.fixture
def auth_api_creds(duo_emulator: RunningEmulator) -> AuthApiCredentials:
    """Fresh Auth API credentials at the emulator (new-user policy enroll), as the bridge
    holds them."""
    api = duo_emulator.control.add_api_credentials("authapi")
    return AuthApiCredentials(api.ikey, api.skey, api.api_host)


@pytest.fixture
def ciba_username() -> str:
    """A lower-case username no other test uses (the session emulator's users are shared)."""
    return f"ciba-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def ciba_bridge(
    keycloak_sandbox: SandboxKeycloak, stack_settings: Settings
) -> Iterator[ServerThread]:
    """A bridge at the URL the sandbox Keycloak's CIBA channel option names (per module, so
    docs/cli-login.md can start its own there too)."""
    port = keycloak_sandbox.settings.bridge_port
    server, _ = start_bridge(
        lambda url: stack_settings.model_copy(update={"bridge_url": url}), port=port
    )
    with server:
        yield server


@dataclass
class CibaTenant:
    """A client realm with Duo on, Auth API credentials and a confidential CIBA client."""

    tenant: Tenant
    admin: Keycloak
    creds: AuthApiCredentials

    @property
    def realm(self) -> str:
        return self.tenant.realm

    @property
    def emulator(self) -> RunningEmulator:
        return self.tenant.emulator

    def user(self, name: str, *, enrolled: bool = True) -> str:
        """A Keycloak user, enrolled at Duo with a phone (or not); the user id."""
        user_id = self.tenant.user(name, enrolled=enrolled)
        if enrolled:
            self.emulator.control.set_user(name, enrolled=True, phone=PHONE)
        return user_id

    @property
    def _endpoints(self) -> str:
        return f"{self.tenant.settings.keycloak_url}/realms/{self.realm}/protocol/openid-connect"

    def login(
        self,
        username: str,
        binding_message: str = "ORDER-42",
        extra: dict[str, str] | None = None,
    ) -> httpx2.Response:
        """Run CIBA as a client does (poll mode), with ``extra`` request parameters: the
        token endpoint's final answer."""
        base = self._endpoints
        auth = (CIBA_CLIENT, CIBA_SECRET)
        with httpx2.Client(timeout=30) as http:
            started = http.post(
                f"{base}/ext/ciba/auth",
                auth=auth,
                data={
                    "scope": "openid",
                    "login_hint": username,
                    "binding_message": binding_message,
                    **(extra or {}),
                },
            )
            assert started.status_code == 200, started.text
            req_id = started.json()["auth_req_id"]
            deadline = time.monotonic() + 60
            while True:
                answer = http.post(
                    f"{base}/token",
                    auth=auth,
                    data={"grant_type": "urn:openid:params:grant-type:ciba", "auth_req_id": req_id},
                )
                pending = answer.status_code == 400 and answer.json().get("error") in {
                    "authorization_pending",
                    "slow_down",
                }
                if not pending or time.monotonic() > deadline:
                    return answer
                time.sleep(1.0)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """The tokens a refresh gives the CIBA client."""
        with httpx2.Client(timeout=30) as http:
            answer = http.post(
                f"{self._endpoints}/token",
                auth=(CIBA_CLIENT, CIBA_SECRET),
                data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            )
        assert answer.status_code == 200, answer.text
        tokens: dict[str, Any] = answer.json()
        return tokens

    def set_app_mode(self, mode: str) -> None:
        """The CIBA client's Duo mode, as `app set` writes it."""
        self.tenant.set_attributes(**{attr.DUO_APPS: json.dumps({CIBA_CLIENT: mode})})

    def set_auth_api(self, creds: AuthApiCredentials) -> None:
        """Store other Auth API credentials on the realm, unchecked (a Duo that is down)."""
        auth_api_settings.set_auth_api(
            self.admin,
            self.realm,
            creds=creds,
            ring=key_ring(self.tenant.settings),
            check=None,
        )


CibaTenantFactory = Callable[..., CibaTenant]


@pytest.fixture
def ciba_tenant(  # noqa: PLR0917
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    bridge: Bridge,
    ciba_bridge: ServerThread,
    duo_emulator: RunningEmulator,
    app_redirect: str,
    auth_api_creds: AuthApiCredentials,
) -> Iterator[CibaTenantFactory]:
    """Make CIBA tenants (policy as given); their realms are deleted afterwards."""
    del ciba_bridge  # only needs to be running
    make_tenant = tenant_factory(admin_keycloak, stack_settings, bridge, duo_emulator, app_redirect)
    made: list[str] = []

    def make(**policy: Any) -> CibaTenant:
        tenant = make_tenant(**policy)
        made.append(tenant.partner)
        ciba = CibaTenant(tenant, admin_keycloak, auth_api_creds)
        ciba.set_auth_api(auth_api_creds)
        tenant.set_attributes(
            cibaBackchannelTokenDeliveryMode="poll",
            cibaExpiresIn="120",
            cibaInterval="1",  # 0 makes Keycloak 26.7 fail the token poll (lifespan 0)
            cibaAuthRequestedUserHint="login_hint",
        )
        tenant.admin().create_client(
            {
                "clientId": CIBA_CLIENT,
                "publicClient": False,
                "secret": CIBA_SECRET,
                "standardFlowEnabled": False,
                "attributes": {"oidc.ciba.grant.enabled": "true"},
            }
        )
        return ciba

    yield make
    for partner in made:
        tenants.delete_tenant(admin_keycloak, partner, cascade=True)
