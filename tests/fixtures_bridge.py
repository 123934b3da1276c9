"""The whole stack for step-up tests: sandbox Keycloak, the Duo emulator, a bridge, tenants."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import pytest
import uvicorn
from keycloak import KeycloakAdmin
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge.admin import console_client, duo_settings, record, tenants, wiring
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from keycloak_duo_bridge.sandbox import provision, secrets
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.server import start_bridge
from keycloak_duo_bridge.serving import ServerThread, bind, start_in_thread
from keycloak_duo_bridge.settings import Settings, key_ring, load_settings

APP_ID = "demo-app"
APP2_ID = "second-app"
PASSWORD = "correct horse battery staple"


def settings_for(keycloak: SandboxKeycloak, emulator: RunningEmulator) -> Settings:
    """Settings pointing the admin service and a bridge at this Keycloak and the emulator."""
    admin = keycloak.settings
    return load_settings(
        keycloak_url=keycloak.url,
        keycloak_admin_username=admin.sandbox_admin_username,
        keycloak_admin_password=admin.sandbox_admin_password,
        duo_ca_file=emulator.ca_path,
        **{k.removeprefix("KDB_").lower(): v for k, v in secrets.ensure(admin.state_dir).items()},
    )


@pytest.fixture(scope="session")
def stack_settings(keycloak_sandbox: SandboxKeycloak, duo_emulator: RunningEmulator) -> Settings:
    """Settings pointing the admin service and the bridge at the sandbox and the emulator."""
    return settings_for(keycloak_sandbox, duo_emulator)


class HasUrl(Protocol):
    """Anything realms can be wired to: one bridge, or a balancer in front of replicas."""

    @property
    def url(self) -> str: ...


@dataclass
class Bridge:
    settings: Settings
    server: ServerThread

    @property
    def url(self) -> str:
        return self.settings.bridge_url


def run_bridge(stack_settings: Settings) -> Bridge:
    server, settings = start_bridge(
        lambda url: stack_settings.model_copy(update={"bridge_url": url})
    )
    return Bridge(settings, server)


@pytest.fixture(scope="session")
def bridge(stack_settings: Settings) -> Iterator[Bridge]:
    """One bridge, serving in a background thread for the whole session."""
    running = run_bridge(stack_settings)
    with running.server:
        # setup, as the sandbox does it: master's console client points at this bridge
        admin = Keycloak.from_settings(running.settings)
        console_client.ensure(admin, running.settings.keycloak_admin_realm, running.url)
        yield running


@pytest.fixture(scope="session")
def admin_keycloak(stack_settings: Settings) -> Keycloak:
    """The admin service's Keycloak adapter, logged in to the sandbox."""
    return Keycloak.from_settings(stack_settings)


def _app(request: Request) -> Response:
    return HTMLResponse("<h1>back at the app</h1>")


@pytest.fixture(scope="session")
def app_redirect() -> Iterator[str]:
    """A stand-in application on loopback: the redirect URI that receives the code."""
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(
        Starlette(routes=[Route("/callback", _app)]), log_config=None, lifespan="off"
    )
    with start_in_thread(config, sock, name="demo application") as server:
        yield f"http://127.0.0.1:{server.port}/callback"


@dataclass
class Tenant:
    """A partner and client realm with Duo on, the demo application, and its users."""

    partner: str
    realm: str
    integration: IntegrationCredentials
    settings: Settings
    emulator: RunningEmulator
    redirect_uri: str

    def user(self, name: str, *, behavior: str = "allow", enrolled: bool = True) -> str:
        """A Keycloak user with the test password, and how Duo will treat them."""
        user_id = provision.ensure_user(self.settings, self.realm, name, PASSWORD)
        self.emulator.control.set_user(name, behavior=behavior, enrolled=enrolled)  # type: ignore[arg-type]
        return user_id

    def admin(self) -> KeycloakAdmin:
        """python-keycloak on this realm, for what the admin service does not do."""
        return KeycloakAdmin(
            server_url=self.settings.keycloak_url,
            username=self.settings.keycloak_admin_username,
            password=self.settings.keycloak_admin_password.get_secret_value(),
            realm_name=self.realm,
            user_realm_name="master",
        )

    def set_attributes(self, **attributes: str) -> None:
        """Write realm attributes as the admin service does: merged, with the realm's record
        (a raw write would leave the record stale, and the extension would fail closed)."""
        record.store(Keycloak.from_settings(self.settings), self.realm, attributes)

    def events(self, *types: str) -> list[dict[str, Any]]:
        """The realm's stored login events of these types, newest first."""
        found: list[dict[str, Any]] = self.admin().get_events({"type": list(types)})
        return found


TenantFactory = Callable[..., Tenant]


@pytest.fixture
def duo_tenant(
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    bridge: Bridge,
    duo_emulator: RunningEmulator,
    app_redirect: str,
) -> TenantFactory:
    """Make a partner + client realm with Duo on (policy as given) and the demo app."""
    return tenant_factory(admin_keycloak, stack_settings, bridge, duo_emulator, app_redirect)


def tenant_factory(
    admin_keycloak: Keycloak,
    stack_settings: Settings,
    bridge: HasUrl,
    duo_emulator: RunningEmulator,
    app_redirect: str,
) -> TenantFactory:
    """``duo_tenant`` for any Keycloak, bridge and emulator (e.g. another Keycloak version)."""

    def make(**policy: object) -> Tenant:
        suffix = uuid.uuid4().hex[:8]
        partner, realm = f"p-{suffix}", f"c-{suffix}"
        tenants.create_partner(admin_keycloak, partner)
        tenants.create_client(admin_keycloak, realm, partner=partner)
        integration = duo_emulator.control.add_integration()
        duo_settings.set_credentials(
            admin_keycloak,
            realm,
            ikey=integration.client_id,
            skey=integration.client_secret,
            api_host=integration.api_host,
            ring=key_ring(stack_settings),
            health=None,
        )
        duo_settings.set_policy(admin_keycloak, realm, duo_settings.Policy(**policy))  # type: ignore[arg-type]
        wires = wiring.Wiring.of(stack_settings, bridge.url)
        duo_settings.set_enabled(admin_keycloak, realm, enabled=True, wires=wires)
        provision.ensure_app(stack_settings, realm, APP_ID, app_redirect)
        provision.ensure_app(stack_settings, realm, APP2_ID, app_redirect)
        tenant = Tenant(partner, realm, integration, stack_settings, duo_emulator, app_redirect)
        tenant.admin().update_realm(realm, {"eventsEnabled": True})
        return tenant

    return make
