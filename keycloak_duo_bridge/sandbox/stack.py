"""The whole demo stack on the embedded defaults: Keycloak, the Duo emulator, the bridge.

Partner ``acme`` with client realm ``globex``; Duo credentials on ``globex`` (an emulator
integration); a demo OIDC application; ``alice`` (enrolled in Duo) and ``bob`` (not yet);
and realm ``acme-sso`` as the partner's own identity provider, with user ``pia``, brokered
into ``globex`` over OIDC (her Duo name is the link's, enrolled).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

import uvicorn
from pydantic import SecretStr

from keycloak_duo_bridge.admin import console_client, duo_settings, tenants, wiring
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.health import check_credentials
from keycloak_duo_bridge.emulator import RunningEmulator, start_emulator
from keycloak_duo_bridge.emulator.model import Integration
from keycloak_duo_bridge.sandbox import process, provision
from keycloak_duo_bridge.sandbox import secrets as sandbox_secrets
from keycloak_duo_bridge.sandbox.demo_app import create_demo_app
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.server import start_bridge
from keycloak_duo_bridge.serving import bind, start_in_thread
from keycloak_duo_bridge.settings import Settings, key_ring

PARTNER = "acme"
CLIENT = "globex"
APP = "demo-app"
USERS = {"alice": True, "bob": False}  # username: enrolled in Duo already
PARTNER_ADMIN = "acme-admin"  # manages acme and its clients in the console
PHONE = "+15555550100"
# The partner's own identity provider: a realm of the sandbox, brokered into globex over OIDC
PARTNER_IDP = "acme-sso"
PARTNER_IDP_USER = "pia"

Progress = Callable[[str], None]


@dataclass
class Stack:
    """The running demo stack and what a person needs to try it."""

    settings: Settings
    keycloak: SandboxKeycloak
    emulator: RunningEmulator
    app_url: str
    passwords: dict[str, str]
    started_keycloak: bool
    _resources: ExitStack = field(repr=False)
    partner_duo_name: str = ""  # the partner IdP user's Duo name in globex (the link's)

    def close(self, progress: Progress) -> None:
        self._resources.close()
        if self.started_keycloak:
            self.keycloak.down(progress=progress)


def _demo_secrets(settings: Settings) -> dict[str, str]:
    """The demo's Duo integration and user passwords, made once per state dir."""
    path = settings.state_dir / "demo.json"
    stored = process.read_state(path)
    if stored is None:
        alphabet = string.ascii_uppercase + string.digits
        stored = {
            "ikey": "DI" + "".join(secrets.choice(alphabet) for _ in range(18)),
            "skey": "".join(
                secrets.choice(string.ascii_letters + string.digits) for _ in range(40)
            ),
        }
    wanted = (*USERS, PARTNER_ADMIN, PARTNER_IDP_USER, "idp_secret")
    missing = [name for name in wanted if name not in stored]
    if missing:  # a state dir from an older version may lack the newer users
        stored.update({name: secrets.token_urlsafe(9) for name in missing})
        process.write_state(path, stored)
    return {str(k): str(v) for k, v in stored.items()}


def start(settings: Settings, progress: Progress) -> Stack:
    """Start (or reuse) the sandbox Keycloak, start the emulator and bridge, provision."""
    keycloak = SandboxKeycloak(settings)
    started = not keycloak.status().running
    status = keycloak.up(progress=progress)
    assert status.url is not None  # noqa: S101 - up() returns a running status
    resources = ExitStack()
    try:
        demo = _demo_secrets(settings)
        emulator = start_emulator(
            settings.state_dir / "duo-emulator",
            port=settings.demo_duo_port,
            integrations=[Integration(demo["ikey"], demo["skey"])],
        )
        resources.callback(emulator.stop)
        progress(f"Duo emulator at {emulator.base_url} (CA {emulator.ca_path})")
        stack_settings = Settings.model_validate(
            {
                **settings.model_dump(),
                "keycloak_url": status.url,
                "keycloak_admin_username": settings.sandbox_admin_username,
                "keycloak_admin_password": settings.sandbox_admin_password,
                "duo_ca_file": emulator.ca_path,
                **{
                    k.removeprefix("KDB_").lower(): v
                    for k, v in sandbox_secrets.ensure(settings.state_dir).items()
                },
            }
        )
        # The bridge reads realms as its own service account, not as the master admin.
        reader_id, reader_secret = provision.ensure_bridge_reader(stack_settings, [])
        stack_settings = stack_settings.model_copy(
            update={"bridge_client_id": reader_id, "bridge_client_secret": SecretStr(reader_secret)}
        )
        bridge, stack_settings = start_bridge(
            lambda url: stack_settings.model_copy(update={"bridge_url": url}),
            port=settings.bridge_port,
        )
        resources.callback(bridge.stop)
        progress(f"bridge at {stack_settings.bridge_url}")
        app_sock = bind(settings.sandbox_host, settings.demo_app_port)
        app_url = f"http://{settings.sandbox_host}:{app_sock.getsockname()[1]}"
        app = create_demo_app(
            keycloak_url=status.url,
            realm=CLIENT,
            client_id=APP,
            redirect_uri=f"{app_url}/callback",
            post_logout_redirect_uri=f"{app_url}/signed-out",
            bridge_url=stack_settings.bridge_url,  # signed-in users get a link to their Duo page
        )
        config = uvicorn.Config(app, log_config=None, lifespan="off", access_log=False)
        resources.enter_context(start_in_thread(config, app_sock, name="demo application"))
        subject = _provision(stack_settings, emulator, demo, app_url, progress)
    except BaseException:
        resources.close()
        if started:
            keycloak.down(progress=progress)
        raise
    passwords = {name: demo[name] for name in (*USERS, PARTNER_ADMIN, PARTNER_IDP_USER)}
    return Stack(
        stack_settings,
        keycloak,
        emulator,
        app_url,
        passwords,
        started,
        resources,
        partner_duo_name(subject),
    )


def _provision(
    settings: Settings,
    emulator: RunningEmulator,
    demo: dict[str, str],
    app_url: str,
    progress: Progress,
) -> str:
    """Provision the demo; returns the partner IdP user's subject (her id there)."""
    admin = Keycloak.from_settings(settings)
    tenants.create_partner(admin, PARTNER, display_name="Acme (partner)")
    tenants.create_client(admin, CLIENT, partner=PARTNER, display_name="Globex (client of Acme)")
    for realm in (settings.keycloak_admin_realm, PARTNER, CLIENT):  # the bridge's port may move
        console_client.ensure(admin, realm, settings.bridge_url)
    provision.ensure_bridge_reader(settings, [PARTNER, CLIENT])  # view-realm of these only
    result = duo_settings.set_credentials(
        admin,
        CLIENT,
        ikey=demo["ikey"],
        skey=demo["skey"],
        api_host=emulator.api_host,
        ring=key_ring(settings),
        health=lambda ikey, skey, host: check_credentials(
            ikey,
            skey,
            host,
            ca_file=settings.duo_ca_file,
            allow_any_host=settings.duo_allow_any_host,
        ),
    )
    progress(f"Duo credentials on realm {CLIENT}: health check {result.verification}")
    wires = wiring.Wiring.of(settings)
    duo_settings.set_enabled(admin, CLIENT, enabled=True, wires=wires)
    provision.ensure_app(
        settings,
        CLIENT,
        APP,
        f"{app_url}/callback",
        post_logout_redirect_uri=f"{app_url}/signed-out",
    )
    provision.ensure_realm_admin(settings, PARTNER, PARTNER_ADMIN, demo[PARTNER_ADMIN])
    for name, enrolled in USERS.items():
        provision.ensure_user(settings, CLIENT, name, demo[name])
        emulator.control.set_user(
            name, behavior="prompt", enrolled=enrolled, phone=PHONE if enrolled else None
        )
    subject = provision.ensure_partner_idp(
        settings,
        idp_realm=PARTNER_IDP,
        client_realm=CLIENT,
        alias=PARTNER_IDP,
        username=PARTNER_IDP_USER,
        password=demo[PARTNER_IDP_USER],
        secret=demo["idp_secret"],
    )
    emulator.control.set_user(
        partner_duo_name(subject), behavior="prompt", enrolled=True, phone=PHONE
    )
    progress(
        f"provisioned partner {PARTNER}, client {CLIENT}, app {APP}, users alice and bob, "
        f"and {PARTNER_IDP_USER} at the partner's own IdP {PARTNER_IDP}"
    )
    return subject


def partner_duo_name(subject: str) -> str:
    """The Duo name of the partner IdP's user in globex: the link's (``idp-subject``)."""
    return f"idp:{PARTNER_IDP}:{subject}"
