"""The benchmark's own sandbox: Keycloak, the Duo emulator, a bridge, and three realms.

Everything runs on free loopback ports under a temporary state dir, and ``Rig.close``
stops all of it, so a bench run leaves nothing behind.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import uvicorn
from keycloak import KeycloakAdmin
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge.admin import duo_settings, tenants, wiring
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.app import Services, build_services, create_app
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator, start_emulator
from keycloak_duo_bridge.sandbox import provision, secrets
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.serving import bind, start_in_thread
from keycloak_duo_bridge.settings import Settings, key_ring, load_settings

APP = "bench-app"
PLAIN = "bench-plain"  # no Duo: password only, and password + Keycloak's OTP
PARTNER = "bench-partner"
DUO = "bench-duo"  # a client realm with Duo on
DUO_STEP_UP = "bench-duo-stepup"  # the same, in the "step-up" assurance mode (the authenticator)
CIBA = "bench-ciba"  # a client realm with Duo on and Auth API keys: CIBA logins (issue #16)
CIBA_CALLBACK = "/protocol/openid-connect/ext/ciba/auth/callback"
PASSWORD = "bench password 1"  # noqa: S105 - a sandbox user's password

Progress = Callable[[str], None]


def _app(request: Request) -> Response:
    del request
    return HTMLResponse("<h1>back at the app</h1>")


class AdminCalls(httpx2.AsyncBaseTransport):
    """The bridge's transport to Keycloak, counting its admin calls: reads of the admin API
    and requests for an admin token (JWKS reads are no admin calls). It also notes when
    Keycloak took each CIBA callback (monotonic seconds), for the CIBA figures."""

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self.count = 0
        self.callbacks: list[float] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path.startswith("/admin/") or path.endswith("/protocol/openid-connect/token"):
            self.count += 1
        response = await self._inner.handle_async_request(request)
        if path.endswith(CIBA_CALLBACK) and response.status_code == httpx2.codes.OK:
            self.callbacks.append(time.monotonic())
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class Rig:
    settings: Settings
    keycloak: SandboxKeycloak
    emulator: RunningEmulator
    services: Services
    admin_calls: AdminCalls
    bridge_url: str
    redirect_uri: str
    integration: IntegrationCredentials
    step_up_integration: IntegrationCredentials
    _resources: ExitStack = field(repr=False)
    _state_dir: Path = field(repr=False)

    def admin(self, realm: str) -> KeycloakAdmin:
        return KeycloakAdmin(
            server_url=self.settings.keycloak_url,
            username=self.settings.keycloak_admin_username,
            password=self.settings.keycloak_admin_password.get_secret_value(),
            realm_name=realm,
            user_realm_name="master",
        )

    def duo_realm(
        self, name: str, bridge_url: str | None = None, assurance: str | None = None
    ) -> IntegrationCredentials:
        """A client realm with its own emulator integration and Duo on, sent to a bridge."""
        admin = Keycloak.from_settings(self.settings)
        tenants.create_client(admin, name, partner=PARTNER)
        integration = self.emulator.control.add_integration()
        duo_settings.set_credentials(
            admin,
            name,
            ikey=integration.client_id,
            skey=integration.client_secret,
            api_host=integration.api_host,
            ring=key_ring(self.settings),
            health=None,
        )
        wires = wiring.Wiring.of(self.settings, bridge_url or self.bridge_url)
        duo_settings.set_enabled(admin, name, enabled=True, wires=wires, assurance=assurance)
        provision.ensure_app(self.settings, name, APP, self.redirect_uri)
        return integration

    def user(self, realm: str, name: str) -> str:
        """A user with the bench password whom the emulator approves at once."""
        user_id = provision.ensure_user(self.settings, realm, name, PASSWORD)
        self.emulator.control.set_user(name, behavior="allow", enrolled=True)
        return user_id

    def close(self, progress: Progress) -> None:
        try:
            self._resources.close()
        finally:
            self.keycloak.down(progress=progress)
            shutil.rmtree(self._state_dir, ignore_errors=True)


def start(progress: Progress) -> Rig:
    """Start everything on free ports, provision the three setups; the caller closes it."""
    state_dir = Path(tempfile.mkdtemp(prefix="kdb-bench-"))
    sock = bind("127.0.0.1", 0)  # first: Keycloak's CIBA channel is started pointing at it
    bridge_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    base = load_settings(
        state_dir=state_dir,
        sandbox_http_port=free_port(),
        sandbox_management_port=free_port(),
        bridge_port=sock.getsockname()[1],
    )
    keycloak = SandboxKeycloak(base)
    resources = ExitStack()
    try:
        keycloak.up(progress=progress)
        emulator = resources.enter_context(start_emulator(state_dir / "duo-emulator"))
        settings = load_settings(
            keycloak_url=keycloak.url,
            keycloak_admin_username=base.sandbox_admin_username,
            keycloak_admin_password=base.sandbox_admin_password,
            duo_ca_file=emulator.ca_path,
            bridge_url=bridge_url,
            state_dir=state_dir,
            **{k.removeprefix("KDB_").lower(): v for k, v in secrets.ensure(state_dir).items()},
        )
        admin_calls = AdminCalls()
        services = build_services(settings, keycloak_transport=admin_calls)
        config = uvicorn.Config(
            create_app(settings, services),
            lifespan="on",
            log_config=None,
            log_level="warning",
            access_log=False,
        )
        resources.enter_context(start_in_thread(config, sock, name="bridge"))
        app_sock = bind("127.0.0.1", 0)
        app_config = uvicorn.Config(
            Starlette(routes=[Route("/callback", _app)]), log_config=None, lifespan="off"
        )
        app = resources.enter_context(start_in_thread(app_config, app_sock, name="bench app"))
        redirect_uri = f"http://127.0.0.1:{app.port}/callback"
        progress(f"bridge at {bridge_url}, Duo emulator at {emulator.base_url}")
        rig = Rig(
            settings,
            keycloak,
            emulator,
            services,
            admin_calls,
            bridge_url,
            redirect_uri,
            emulator.control.add_integration(),
            emulator.control.add_integration(),
            resources,
            state_dir,
        )
        _provision(rig)
    except BaseException:
        sock.close()
        resources.close()
        keycloak.down(progress=progress)
        shutil.rmtree(state_dir, ignore_errors=True)
        raise
    progress(
        f"provisioned realms {PLAIN} (password, OTP), {DUO} (Duo, required action) and"
        f" {DUO_STEP_UP} (Duo, authenticator at level 2)"
    )
    return rig


def _provision(rig: Rig) -> None:
    admin = Keycloak.from_settings(rig.settings)
    tenants.create_partner(admin, PLAIN)
    # Each timed OTP login reuses the code of the current 30 s window.
    # Keycloak applies the OTP policy as a whole, only when its type is given.
    policy = {
        "otpPolicyType": "totp",
        "otpPolicyAlgorithm": "HmacSHA1",
        "otpPolicyDigits": 6,
        "otpPolicyPeriod": 30,
        "otpPolicyLookAheadWindow": 1,
        "otpPolicyInitialCounter": 0,
        "otpPolicyCodeReusable": True,
    }
    rig.admin(PLAIN).update_realm(PLAIN, policy)
    provision.ensure_app(rig.settings, PLAIN, APP, rig.redirect_uri)
    tenants.create_partner(admin, PARTNER)
    rig.integration = rig.duo_realm(DUO)
    rig.step_up_integration = rig.duo_realm(DUO_STEP_UP, assurance="step-up")
