"""Fixtures for Duo's Auth API and CIBA (issue #16): fresh Auth API credentials at the
session emulator, a bridge where the sandbox Keycloak's CIBA channel points, and tenants with
a CIBA client, driven as a CIBA client would (poll mode)."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import auth_api_settings, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.server import start_bridge
from keycloak_duo_bridge.serving import ServerThread, bind, start_in_thread
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


def with_ciba(tenant: Tenant, admin: Keycloak, creds: AuthApiCredentials) -> CibaTenant:
    """The tenant's realm made ready for CIBA: Auth API credentials, poll mode and a
    confidential CIBA client."""
    ciba = CibaTenant(tenant, admin, creds)
    ciba.set_auth_api(creds)
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


@pytest.fixture
def any_channel_ciba_tenant(  # noqa: PLR0917
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    bridge: Bridge,
    duo_emulator: RunningEmulator,
    app_redirect: str,
    auth_api_creds: AuthApiCredentials,
) -> Iterator[CibaTenantFactory]:
    """Make CIBA tenants (policy as given), whatever serves Keycloak's CIBA channel; their
    realms are deleted afterwards."""
    make_tenant = tenant_factory(admin_keycloak, stack_settings, bridge, duo_emulator, app_redirect)
    made: list[str] = []

    def make(**policy: Any) -> CibaTenant:
        tenant = make_tenant(**policy)
        made.append(tenant.partner)
        return with_ciba(tenant, admin_keycloak, auth_api_creds)

    yield make
    for partner in made:
        tenants.delete_tenant(admin_keycloak, partner, cascade=True)


@pytest.fixture
def ciba_tenant(
    ciba_bridge: ServerThread, any_channel_ciba_tenant: CibaTenantFactory
) -> CibaTenantFactory:
    """Make CIBA tenants whose channel requests reach one bridge."""
    del ciba_bridge  # only needs to be running
    return any_channel_ciba_tenant


@dataclass
class Replicas:
    """Two bridge replicas with the same settings, behind a balancer at the URL Keycloak's
    CIBA channel names; the balancer sends each channel request to ``route_to`` and keeps
    what Keycloak sent (to replay it)."""

    urls: dict[str, str]
    route_to: str = "A"
    seen: list[tuple[str, bytes]] = field(default_factory=list)

    def replay(self, replica: str, index: int = -1) -> httpx2.Response:
        """Send the ``index``-th channel request Keycloak made again, to ``replica``."""
        authorization, body = self.seen[index]
        return httpx2.post(
            f"{self.urls[replica]}/ciba/channel",
            content=body,
            headers={"Authorization": authorization, "Content-Type": "application/json"},
        )


@pytest.fixture(scope="module")
def ciba_replicas(
    keycloak_sandbox: SandboxKeycloak, stack_settings: Settings
) -> Iterator[Replicas]:
    """Replicas A and B (same settings, own ports) behind a recording balancer at the port
    the sandbox Keycloak's CIBA channel calls."""
    with contextlib.ExitStack() as stack:
        urls: dict[str, str] = {}
        for name in ("A", "B"):
            server, settings = start_bridge(
                lambda url: stack_settings.model_copy(update={"bridge_url": url})
            )
            stack.enter_context(server)
            urls[name] = settings.bridge_url
        replicas = Replicas(urls)

        async def channel(request: Request) -> Response:
            body = await request.body()
            authorization = request.headers.get("authorization", "")
            replicas.seen.append((authorization, body))
            async with httpx2.AsyncClient(timeout=30) as http:
                answer = await http.post(
                    f"{replicas.urls[replicas.route_to]}/ciba/channel",
                    content=body,
                    headers={"Authorization": authorization, "Content-Type": "application/json"},
                )
            return Response(answer.content, answer.status_code, answer.headers)

        app = Starlette(routes=[Route("/ciba/channel", channel, methods=["POST"])])
        sock = bind("127.0.0.1", keycloak_sandbox.settings.bridge_port)
        config = uvicorn.Config(app, log_config=None, lifespan="off", access_log=False)
        stack.enter_context(start_in_thread(config, sock, name="ciba balancer"))
        yield replicas


@pytest.fixture
def ciba_replica_tenant(
    ciba_replicas: Replicas, any_channel_ciba_tenant: CibaTenantFactory
) -> CibaTenantFactory:
    """Make CIBA tenants whose channel requests reach the replicas' balancer."""
    del ciba_replicas  # only needs to be running
    return any_channel_ciba_tenant


DEVICE_CLIENT = "device-cli"


@dataclass
class DeviceClient:
    """A public client with the device authorization grant (RFC 8628) on a Duo tenant."""

    tenant: Tenant

    @property
    def base(self) -> str:
        realm = f"{self.tenant.settings.keycloak_url}/realms/{self.tenant.realm}"
        return f"{realm}/protocol/openid-connect"

    def start(self) -> dict[str, Any]:
        """The device authorization endpoint's answer (device_code, user_code, URIs)."""
        answer = httpx2.post(
            f"{self.base}/auth/device", data={"client_id": DEVICE_CLIENT, "scope": "openid"}
        )
        assert answer.status_code == 200, answer.text
        started: dict[str, Any] = answer.json()
        return started

    def poll(self, device_code: str) -> httpx2.Response:
        """One poll of the token endpoint with the device code."""
        return httpx2.post(
            f"{self.base}/token",
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "client_id": DEVICE_CLIENT,
                "device_code": device_code,
            },
        )


def add_device_client(tenant: Tenant, *, lifespan: int | None = None) -> DeviceClient:
    """Create the public device-grant client (its device codes living ``lifespan`` s)."""
    attributes = {"oauth2.device.authorization.grant.enabled": "true"}
    if lifespan is not None:
        attributes["oauth2.device.code.lifespan"] = str(lifespan)
    tenant.admin().create_client(
        {
            "clientId": DEVICE_CLIENT,
            "publicClient": True,
            "standardFlowEnabled": False,
            "attributes": attributes,
        }
    )
    return DeviceClient(tenant)
